using FastGate.Cli;

namespace FastGate;

internal static class Program
{
    private static Task<int> Main(string[] args)
    {
        // Socket completions run on the epoll thread instead of hopping to the thread pool: the
        // gateway's continuations never block, and the hop cost a context switch per read (measured
        // on the keep-alive proxy path, one core: 7.2k -> 28.7k req/s, 136 -> 34 µs CPU per request;
        // perf-results/). Read once by System.Net.Sockets before its first socket, so set it first;
        // an operator's explicit setting wins.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }

        return CommandLine.RunAsync(args, Console.Out, Console.Error);
    }
}
