using System.Threading.Tasks.Sources;

namespace FastGate.Gateway.Transport;

/// <summary>
/// One edge of readiness (readable or writable) between the epoll loop and a socket's reader or
/// writer (<see cref="EpollSocketReader"/>, <see cref="EpollSocketWriter"/>). Edge-triggered epoll reports a transition once, so an event that arrives while
/// nobody waits is remembered and satisfies the next wait. One waiter at a time; the waiter's
/// continuation runs inline on the thread that signals (the loop thread), which is the point: no
/// thread hop between the event and the recv/send it allows.
/// </summary>
internal sealed class ReadinessSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Set = 1;
    private const int Waiting = 2;

    private ManualResetValueTaskSourceCore<bool> _core;
    private int _state;

    public ReadinessSignal()
    {
        _core.RunContinuationsAsynchronously = false;
    }

    /// <summary>Completes at once if an event arrived since the last wait, else at the next <see cref="Signal"/>.</summary>
    public ValueTask WaitAsync() => TakeOrWait() ? default : new ValueTask(this, _core.Version);

    /// <summary>
    /// <see cref="WaitAsync"/> for a waiter that is not an async method: true when an event arrived since
    /// the last wait (taken now); otherwise false, and <paramref name="continuation"/> runs at the next
    /// <see cref="Signal"/>, inline on the signalling thread.
    /// </summary>
    public bool TakeOrNotify(Action<object?> continuation, object state)
    {
        if (TakeOrWait())
        {
            return true;
        }

        _core.OnCompleted(continuation, state, _core.Version, ValueTaskSourceOnCompletedFlags.None);
        return false;
    }

    /// <summary>True when an event was there (taken); else the signal now waits for the next one.</summary>
    private bool TakeOrWait()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Set) == Set)
        {
            return true;
        }

        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Set)
        {
            // Race window: the event arrived between the two exchanges; Signal leaves Set alone, so
            // the waiter (the only writer of a Set state back to Idle) consumes it here.
            Volatile.Write(ref _state, Idle);
            return true;
        }

        return false;
    }

    /// <summary>Takes an event that arrived since the last wait, if one did, without waiting.</summary>
    public bool TryConsume() => Interlocked.CompareExchange(ref _state, Idle, Set) == Set;

    public void Signal()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Set)
            {
                return;
            }

            if (state == Idle)
            {
                if (Interlocked.CompareExchange(ref _state, Set, Idle) == Idle)
                {
                    return;
                }
            }
            else if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
            {
                _core.SetResult(true);
                return;
            }
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
