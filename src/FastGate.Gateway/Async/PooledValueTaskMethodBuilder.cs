using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace FastGate.Gateway.Async;

/// <summary>
/// An async method builder for <see cref="ValueTask{TResult}"/> methods on the request path whose
/// state-machine boxes come from a shared pool sized for many concurrent connections.
/// </summary>
/// <remarks>
/// NOTE: the runtime's PoolingAsyncValueTaskMethodBuilder keeps one box per thread and one per core.
/// A gateway has one suspended box per method per connection in flight, so at 64 connections nearly
/// every suspension allocated a box (measured with dotnet-trace: ~4 KB per request). This builder
/// keeps up to <see cref="BoxPool{TBox}.Capacity"/> boxes per method. A box goes back to the pool when
/// its result is read, so a ValueTask from it must be awaited exactly once (as the runtime's
/// pooling builder requires too).
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1815", Justification = "A compiler-facing builder.")]
public struct PooledValueTaskMethodBuilder<TResult>
{
    private PooledBox<TResult>? _box;
    private TResult _result;
    private bool _completedSynchronously;

    public static PooledValueTaskMethodBuilder<TResult> Create() => default;

    public ValueTask<TResult> Task
    {
        get
        {
            if (_completedSynchronously)
            {
                return new ValueTask<TResult>(_result);
            }

            // The box exists: the method either suspended or failed synchronously.
            var box = _box!;
            return new ValueTask<TResult>(box, box.Version);
        }
    }

    public void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        // Restore the caller's execution and synchronization contexts if the method changes them,
        // as the runtime's builders do.
        var thread = Thread.CurrentThread;
        var previousExecutionContext = thread.ExecutionContext;
        var previousSyncContext = SynchronizationContext.Current;
        try
        {
            stateMachine.MoveNext();
        }
        finally
        {
            if (!ReferenceEquals(previousSyncContext, SynchronizationContext.Current))
            {
                SynchronizationContext.SetSynchronizationContext(previousSyncContext);
            }

            if (!ReferenceEquals(previousExecutionContext, thread.ExecutionContext) && previousExecutionContext is not null)
            {
                ExecutionContext.Restore(previousExecutionContext);
            }
        }
    }

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
    }

    public void SetResult(TResult result)
    {
        if (_box is null)
        {
            _result = result;
            _completedSynchronously = true;
        }
        else
        {
            _box.SetResult(result);
        }
    }

    public void SetException(Exception exception)
    {
        _box ??= PooledBox<TResult>.CreateForException();
        _box.SetException(exception);
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.OnCompleted(GetBox(ref stateMachine).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.UnsafeOnCompleted(GetBox(ref stateMachine).MoveNextAction);

    private PooledBox<TResult> GetBox<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        if (_box is PooledBox<TResult, TStateMachine> existing)
        {
            // Later awaits run inside the box already.
            return existing;
        }

        var box = BoxPool<PooledBox<TResult, TStateMachine>>.Rent() ?? new PooledBox<TResult, TStateMachine>();
        // Set the builder's box before the state machine (which holds this builder) is copied in.
        _box = box;
        box.StateMachine = stateMachine;
        box.Context = ExecutionContext.Capture();
        return box;
    }
}

/// <summary>The awaitable part of a pooled box, independent of the state machine type.</summary>
public abstract class PooledBox<TResult> : IValueTaskSource<TResult>
{
    private ManualResetValueTaskSourceCore<TResult> _core;

    internal short Version => _core.Version;

    internal Action MoveNextAction { get; init; } = null!;

    internal void SetResult(TResult result) => _core.SetResult(result);

    internal void SetException(Exception exception) => _core.SetException(exception);

    internal static PooledBox<TResult> CreateForException() => new ExceptionBox();

    public TResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            Recycle();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private protected abstract void Recycle();

    private sealed class ExceptionBox : PooledBox<TResult>
    {
        private protected override void Recycle()
        {
        }
    }
}

internal sealed class PooledBox<TResult, TStateMachine> : PooledBox<TResult>
    where TStateMachine : IAsyncStateMachine
{
    private static readonly ContextCallback MoveNextInContext = static state => ((PooledBox<TResult, TStateMachine>)state!).StateMachine.MoveNext();

    public TStateMachine StateMachine = default!;
    public ExecutionContext? Context;

    public PooledBox() => MoveNextAction = MoveNext;

    private void MoveNext()
    {
        if (Context is null)
        {
            StateMachine.MoveNext();
        }
        else
        {
            ExecutionContext.Run(Context, MoveNextInContext, this);
        }
    }

    private protected override void Recycle()
    {
        StateMachine = default!;
        Context = null;
        BoxPool<PooledBox<TResult, TStateMachine>>.Return(this);
    }
}

/// <summary>A bounded pool of boxes of one type.</summary>
/// <remarks>
/// NOTE: a SpinLock-guarded array was the first version; on one core a thread preempted while holding
/// it made the others spin into sched_yield. ConcurrentQueue is lock-free and, once its ring segment
/// has grown to the working set, allocation-free. In front of it each epoll loop thread keeps a few boxes
/// of its own: a request suspends and resumes about ten methods, nearly always on its loop's thread, and a
/// box rented and returned there then costs two array operations instead of the queue's four atomics.
/// The loop's boxes hang off the loop object (found through its non-generic thread-static), by a slot
/// per pool: a thread-static of this generic class would be a runtime helper call on every access,
/// since box types are classes and share one compiled form.
/// </remarks>
internal static class BoxPool<TBox>
    where TBox : class
{
    // Enough for a few hundred requests in flight per method; beyond that boxes are allocated and
    // dropped, which costs only garbage.
    public const int Capacity = 1024;

    private static readonly System.Collections.Concurrent.ConcurrentQueue<TBox> Items = new();
    private static readonly int s_slot = LoopBoxes.NewSlot();
    private static int s_count;

    public static TBox? Rent()
    {
        if (Transport.EpollLoop.Current?.Boxes.At(s_slot) is { Count: > 0 } boxes)
        {
            return Unsafe.As<TBox>(boxes.Pop());
        }

        if (Items.TryDequeue(out var shared))
        {
            Interlocked.Decrement(ref s_count);
            return shared;
        }

        return null;
    }

    public static void Return(TBox item)
    {
        // Only loop threads keep boxes: a thread-pool thread may return boxes another thread rented
        // and never rent them again, and each would hoard its own.
        if (Transport.EpollLoop.Current?.Boxes.At(s_slot) is { IsFull: false } boxes)
        {
            boxes.Push(item);
            return;
        }

        // Race window: two returns may both pass the check at Capacity - 1; the bound is soft by a few.
        if (Volatile.Read(ref s_count) < Capacity)
        {
            Interlocked.Increment(ref s_count);
            Items.Enqueue(item);
        }
    }
}

/// <summary>The boxes one epoll loop thread keeps for itself, a small stack per <see cref="BoxPool{TBox}"/>.</summary>
/// <remarks>Used only by the loop's own thread, so nothing here is synchronized.</remarks>
internal sealed class LoopBoxes
{
    // Per pool: enough for the requests of a busy loop in flight at once without touching the queue.
    private const int StackCapacity = 16;

    private static int s_slots;

    private Stack?[] _stacks = new Stack?[64];

    public static int NewSlot() => Interlocked.Increment(ref s_slots) - 1;

    public Stack At(int slot)
    {
        var stacks = _stacks;
        if ((uint)slot < (uint)stacks.Length && stacks[slot] is { } stack)
        {
            return stack;
        }

        return Add(slot);
    }

    private Stack Add(int slot)
    {
        if (slot >= _stacks.Length)
        {
            Array.Resize(ref _stacks, Math.Max(_stacks.Length * 2, slot + 1));
        }

        return _stacks[slot] = new Stack();
    }

    internal sealed class Stack
    {
        private readonly object?[] _items = new object?[StackCapacity];

        public int Count { get; private set; }

        public bool IsFull => Count == StackCapacity;

        public object Pop()
        {
            int last = --Count;
            var item = _items[last]!;
            _items[last] = null;
            return item;
        }

        public void Push(object item) => _items[Count++] = item;
    }
}
