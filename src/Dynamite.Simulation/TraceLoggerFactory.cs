using Microsoft.Extensions.Logging;

namespace Dynamite.Simulation;

/// <summary>The runtime's log lines of Information and above, in the run's trace, stamped with the node and the simulated time.</summary>
public sealed class TraceLoggerFactory(SimulatedNetwork network, string node) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new TraceLogger(network, node);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class TraceLogger(SimulatedNetwork network, string node) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                network.Log($"{node} {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
            }
        }
    }
}
