using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Tests.Transport;

/// <summary>Runs a piece of test code on an epoll loop's thread (where the pools keep their per-thread caches).</summary>
internal static class EpollLoopWork
{
    public static Task<T> RunOn<T>(this EpollLoop loop, Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Schedule(_ =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        }, null);
        return done.Task;
    }
}
