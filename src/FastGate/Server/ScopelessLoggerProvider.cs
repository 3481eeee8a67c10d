using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace FastGate.Server;

/// <summary>
/// The console logger without log scopes. Kestrel opens a scope per connection (its connection id) whenever
/// its logger is enabled, and a provider that takes scopes (the console's does) keeps it in an AsyncLocal for
/// the connection's life: about 150 B of every idle connection, and an ExecutionContext that every await of
/// the connection then captures and restores. The gateway's log lines are single lines without scopes, so
/// this wrapper hides the console provider's <see cref="ISupportExternalScope"/>: the logger factory then
/// asks the console logger itself for a scope, and it has none to keep.
/// </summary>
internal sealed class ScopelessLoggerProvider(ILoggerProvider inner) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => inner.CreateLogger(categoryName);

    public void Dispose() => inner.Dispose();

    /// <summary>The simple console logger on one line per entry, through this wrapper.</summary>
    public static ILoggingBuilder AddSingleLineConsole(ILoggingBuilder logging)
    {
        logging.AddSimpleConsole(o => o.SingleLine = true);
        var console = logging.Services.Single(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider));
        logging.Services.Remove(console);
        logging.Services.AddSingleton<ILoggerProvider>(services => new ScopelessLoggerProvider(ActivatorUtilities.CreateInstance<ConsoleLoggerProvider>(services)));
        return logging;
    }
}
