using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace FastGate.Gateway.Async;

/// <summary>
/// A reusable auto-reset signal with at most one waiter, awaited without allocation: a set before the
/// wait is remembered, a wait after <see cref="Close"/> returns false at once. Continuations never run
/// inline in <see cref="Set"/>, so a setter holding a lock never runs a waiter's code: they run on the
/// thread pool, or through the scheduler given (an epoll loop, so that an HTTP/2 connection's streams
/// run on the thread that serves its socket, with no thread handoff).
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource<bool>
{
    private readonly Lock _lock = new();
    private readonly PipeScheduler? _scheduler;
    private ManualResetValueTaskSourceCore<bool> _core;
    private bool _set;
    private bool _waiting;
    private bool _closed;

    /// <param name="scheduler">where waiters continue; null: the thread pool</param>
    public AsyncSignal(PipeScheduler? scheduler = null)
    {
        _scheduler = scheduler;
        // With a scheduler the result is set from the scheduler's queue, and the waiter continues inline there.
        _core = new ManualResetValueTaskSourceCore<bool> { RunContinuationsAsynchronously = scheduler is null };
    }

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
            if (!_waiting)
            {
                _set |= !closing;
                return;
            }

            _waiting = false;
            if (_scheduler is null)
            {
                _core.SetResult(!closing);
                return;
            }
        }

        // The one waiter cannot wait again before it has resumed, so the core is untouched until the
        // scheduler runs this.
        _scheduler.Schedule(closing ? static state => ((AsyncSignal)state!)._core.SetResult(false) : static state => ((AsyncSignal)state!)._core.SetResult(true), this);
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
