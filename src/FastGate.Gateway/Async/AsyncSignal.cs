using System.Threading.Tasks.Sources;

namespace FastGate.Gateway.Async;

/// <summary>
/// A reusable auto-reset signal with at most one waiter, awaited without allocation: a set before the
/// wait is remembered, a wait after <see cref="Close"/> returns false at once. Continuations run on the
/// thread pool, never inline in <see cref="Set"/>, so a setter holding a lock never runs a waiter's code.
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource<bool>
{
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private bool _set;
    private bool _waiting;
    private bool _closed;

    /// <summary>True when set (now or earlier), false when closed.</summary>
    public ValueTask<bool> WaitAsync()
    {
        lock (_lock)
        {
            if (_closed)
            {
                return new ValueTask<bool>(false);
            }

            if (_set)
            {
                _set = false;
                return new ValueTask<bool>(true);
            }

            _core.Reset();
            _waiting = true;
            return new ValueTask<bool>(this, _core.Version);
        }
    }

    public void Set() => Complete(closing: false);

    /// <summary>Wakes the waiter with false; later waits return false until <see cref="Reopen"/>.</summary>
    public void Close() => Complete(closing: true);

    public void Reopen()
    {
        lock (_lock)
        {
            _closed = false;
            _set = false;
        }
    }

    private void Complete(bool closing)
    {
        lock (_lock)
        {
            _closed |= closing;
            if (_waiting)
            {
                _waiting = false;
                _core.SetResult(!closing);
            }
            else if (!closing)
            {
                _set = true;
            }
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
