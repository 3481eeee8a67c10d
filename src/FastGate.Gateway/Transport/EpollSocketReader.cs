using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The input of a non-blocking socket on an <see cref="EpollLoop"/> as a <see cref="PipeReader"/> with
/// no pipe behind it: a read recvs straight into blocks of the loops' pool, on the reader's own call,
/// and waits (for the next edge, through <see cref="ReadinessSignal"/>) only when the socket has
/// nothing; the wait's continuation, the reader's code, runs on the loop thread that saw the edge.
/// Consumed blocks go back to the pool at once, so an idle connection holds none.
/// </summary>
/// <remarks>
/// NOTE: the first transport ran a receive loop per socket that recvd into a <see cref="Pipe"/> and
/// flushed it, which resumed the reader inline: each read took the pipe's lock three times and resumed
/// two state machines, and every idle connection kept the loop's state machine and the pipe.
/// <para>
/// Edge-triggered epoll (man 7 epoll) reports new data once. A recv that filled its buffer may have left
/// more, so the next read recvs at once; a short one drained the socket, so the next read waits for an
/// edge first (no recv that would only say EAGAIN), unless the peer closed, when reads go on to the end.
/// <see cref="ReadinessSignal"/> remembers an edge that came while nobody waited.
/// </para>
/// <para>
/// One caller reads at a time (the PipeReader contract). <see cref="CancelPendingRead"/> and
/// <see cref="Stop"/> come from any thread. Reads end (IsCompleted) at the peer's FIN; after a failed
/// recv or a stop they throw what the owner says (<see cref="IEpollChannelOwner.OnReceiveEnded"/>),
/// or end as at a FIN when it says nothing.
/// </para>
/// </remarks>
internal sealed class EpollSocketReader : PipeReader, IValueTaskSource<ReadResult>
{
    private const int MaxSpareSegments = 4;

    private readonly int _fd;
    private readonly EpollBlockPool _pool;
    private readonly EpollSocketChannel _channel;
    private readonly IEpollChannelOwner _owner;

    // The received, unconsumed bytes: from _head.Start to _tail.End, over linked blocks.
    private Segment? _head;
    private Segment? _tail;
    private Segment? _spare;
    private int _spareCount;

    // The last AdvanceTo examined everything: the next read needs new bytes.
    private bool _examinedAll;
    // The last recv was short: the socket is drained until the next edge.
    private bool _drained = true;
    // The last recv filled its block: a body is streaming, the next block is a large one.
    private bool _lastFilled;
    private volatile bool _cancelRead;
    private volatile bool _stopped;
    private bool _ended;
    private bool _eof;
    private Exception? _error;
    private bool _completed;

    // The read that waits for an edge: the reader is its ValueTask's source (one async method less
    // between the socket and the code that waits for it, twice per proxied request).
    private ManualResetValueTaskSourceCore<ReadResult> _wait;
    private CancellationToken _waitToken;
    private CancellationTokenRegistration _waitRegistration;

    /// <param name="fd">the socket, non-blocking and registered with its loop</param>
    /// <param name="channel">the socket's epoll handler: its readable edges and whether the peer closed</param>
    /// <param name="owner">told once when the input ends (<see cref="IEpollChannelOwner.OnReceiveEnded"/>) and once
    /// when it is completed (<see cref="IEpollChannelOwner.OnClosed"/>)</param>
    public EpollSocketReader(int fd, EpollBlockPool pool, EpollSocketChannel channel, IEpollChannelOwner owner)
    {
        _fd = fd;
        _pool = pool;
        _channel = channel;
        _owner = owner;
        _wait.RunContinuationsAsynchronously = false;
    }

    private enum Received : byte
    {
        Data,
        End,
        WouldBlock,
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_cancelRead)
        {
            _cancelRead = false;
            return new ValueTask<ReadResult>(Result(canceled: true));
        }

        if (HasUnexamined || _ended)
        {
            return new ValueTask<ReadResult>(Result(canceled: false));
        }

        if (!_drained && Receive() != Received.WouldBlock)
        {
            return new ValueTask<ReadResult>(Result(canceled: false));
        }

        return WaitForEdge(cancellationToken);
    }

    /// <summary>
    /// What is buffered, or, when the socket had an edge since the last recv (or was not drained), what
    /// one recv brings: a check for bytes or a close costs no system call while nothing arrived.
    /// </summary>
    public override bool TryRead(out ReadResult result)
    {
        if (_cancelRead)
        {
            _cancelRead = false;
            result = Result(canceled: true);
            return true;
        }

        if (!_ended && (!_drained || _channel.Readable.TryConsume()))
        {
            // Bytes (or the FIN) may have come after the last recv: take them in, as a pipe's writer would have.
            Receive();
        }

        if (HasBuffered || _ended)
        {
            result = Result(canceled: false);
            return true;
        }

        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (consumed.GetObject() is not Segment consumedSegment)
        {
            // The empty buffer of a read that brought nothing (a cancel, the end).
            _examinedAll = false;
            return;
        }

        while (_head is { } head && head != consumedSegment)
        {
            _head = (Segment?)head.Next;
            Release(head);
        }

        if (_head is null)
        {
            throw new InvalidOperationException("AdvanceTo past the buffer of the last read.");
        }

        _head.Start = consumed.GetInteger();
        var tail = _tail!;
        // By absolute index: the same point may come as the end of one block or the start of the next.
        _examinedAll = examined.GetObject() is Segment examinedSegment
            && examinedSegment.RunningIndex + examined.GetInteger() >= tail.RunningIndex + tail.End;
        if (_head == tail && tail.Start == tail.End)
        {
            // All consumed: an idle connection holds no block.
            Release(tail);
            _head = _tail = null;
            _examinedAll = false;
        }
    }

    /// <summary>Wakes a read that waits for the socket (its result is IsCanceled), or cancels the next read.</summary>
    public override void CancelPendingRead()
    {
        _cancelRead = true;
        _channel.Readable.Signal();
    }

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        for (var segment = _head; segment is not null;)
        {
            var next = (Segment?)segment.Next;
            Release(segment);
            segment = next;
        }

        _head = _tail = null;
        End(0);
        _owner.OnClosed();
    }

    /// <summary>
    /// The connection ends: no more recv; reads end (with the owner's reason). Any thread; the reader
    /// waiting now is woken by <paramref name="wake"/> (the caller may prefer to wake it through the loop).
    /// </summary>
    public void Stop(bool wake)
    {
        _stopped = true;
        if (wake)
        {
            _channel.Readable.Signal();
        }
    }

    private bool HasBuffered => _head is { } head && (head.Start < head.End || head != _tail);

    private bool HasUnexamined => !_examinedAll && HasBuffered;

    private ReadResult Result(bool canceled)
    {
        if (_error is not null && !canceled)
        {
            throw _error;
        }

        var buffer = _head is { } head ? new ReadOnlySequence<byte>(head, head.Start, _tail!, _tail!.End) : default;
        return new ReadResult(buffer, canceled, isCompleted: _ended && !canceled);
    }

    /// <summary>One recv into the tail block (or a new one).</summary>
    private Received Receive()
    {
        if (_stopped)
        {
            End(0);
            return Received.End;
        }

        var previous = _tail;
        var tail = previous;
        bool appended = false;
        if (tail is null || tail.End == tail.Capacity || _lastFilled && tail.Capacity < EpollBlockPool.LargeBlockSize)
        {
            tail = Append(_lastFilled ? EpollBlockPool.LargeBlockSize : EpollBlockPool.SmallBlockSize);
            appended = true;
        }

        var result = ReceiveInto(tail);
        if (appended && result != Received.Data)
        {
            // Nothing came: the block just rented goes back, so a connection waiting for bytes holds none.
            DropTail(previous);
        }

        return result;
    }

    private Received ReceiveInto(Segment tail)
    {
        while (true)
        {
            int space = tail.Capacity - tail.End;
            int received = EpollSocketIo.Receive(_fd, tail.Array.AsSpan(tail.End, space), out int errno);
            if (received > 0)
            {
                tail.End += received;
                tail.Grow();
                _lastFilled = received == space;
                // Short: drained until the next edge, unless the peer closed (read on to the FIN).
                _drained = !_lastFilled && !_channel.PeerClosed;
                _examinedAll = false;
                return Received.Data;
            }

            if (received == 0)
            {
                // FIN (RFC 9293 section 3.6): the peer sends no more.
                _eof = true;
                End(0);
                return Received.End;
            }

            if (errno == LinuxNative.EAgain)
            {
                _drained = true;
                return Received.WouldBlock;
            }

            if (errno != LinuxNative.EIntr)
            {
                End(errno);
                return Received.End;
            }
        }
    }

    /// <summary>A read that must wait: completes at the first edge after which a recv brings something (or the end).</summary>
    private ValueTask<ReadResult> WaitForEdge(CancellationToken cancellationToken)
    {
        _wait.Reset();
        if (cancellationToken.CanBeCanceled)
        {
            _waitToken = cancellationToken;
            _waitRegistration = cancellationToken.UnsafeRegister(static state => ((EpollSocketReader)state!).CancelPendingRead(), this);
        }

        WaitOrFinish();
        return new ValueTask<ReadResult>(this, _wait.Version);
    }

    private void WaitOrFinish()
    {
        while (_channel.Readable.TakeOrNotify(static state => ((EpollSocketReader)state!).OnReadable(), this))
        {
            if (TryFinishWait())
            {
                return;
            }
        }
    }

    /// <summary>An edge came for the waiting read (inline on the loop thread).</summary>
    private void OnReadable()
    {
        if (!TryFinishWait())
        {
            WaitOrFinish();
        }
    }

    /// <summary>After an edge: completes the waiting read unless a recv says the edge brought nothing new.</summary>
    private bool TryFinishWait()
    {
        ReadResult result;
        try
        {
            if (_cancelRead)
            {
                _cancelRead = false;
                _waitToken.ThrowIfCancellationRequested();
                result = Result(canceled: true);
            }
            else
            {
                _drained = false;
                if (Receive() == Received.WouldBlock)
                {
                    return false;
                }

                result = Result(canceled: false);
            }
        }
        catch (Exception ex)
        {
            EndWait();
            _wait.SetException(ex);
            return true;
        }

        EndWait();
        _wait.SetResult(result);
        return true;
    }

    private void EndWait()
    {
        _waitRegistration.Dispose();
        _waitRegistration = default;
        _waitToken = default;
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _wait.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _wait.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _wait.OnCompleted(continuation, state, token, flags);

    /// <summary>The input ended (FIN, a failed recv, a stop or the caller's Complete): the owner hears it once.</summary>
    private void End(int errno)
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        var error = _owner.OnReceiveEnded(errno);
        if (!_completed && !_eof)
        {
            _error = error;
        }
    }

    private Segment Append(int size)
    {
        var segment = _spare ?? new Segment();
        if (segment == _spare)
        {
            _spare = (Segment?)segment.Next;
            _spareCount--;
        }

        var block = _pool.Rent(size);
        segment.Attach(block, EpollBlockPool.ArrayOf(block), _tail);
        if (_tail is null)
        {
            _head = segment;
        }

        _tail = segment;
        return segment;
    }

    /// <summary>Unlinks the empty tail; <paramref name="previous"/> (null when the tail was the only block) becomes the tail.</summary>
    private void DropTail(Segment? previous)
    {
        var tail = _tail!;
        if (previous is null)
        {
            _head = _tail = null;
        }
        else
        {
            previous.Link(null);
            _tail = previous;
        }

        Release(tail);
    }

    private void Release(Segment segment)
    {
        segment.Detach();
        if (_spareCount < MaxSpareSegments)
        {
            segment.Link(_spare);
            _spare = segment;
            _spareCount++;
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        private IMemoryOwner<byte>? _block;
        private Memory<byte> _whole;

        public byte[] Array { get; private set; } = [];

        public int Capacity => Array.Length;

        /// <summary>The first byte not consumed.</summary>
        public int Start;

        /// <summary>The end of the bytes received.</summary>
        public int End;

        public void Attach(IMemoryOwner<byte> block, byte[] array, Segment? previous)
        {
            _block = block;
            _whole = block.Memory;
            Array = array;
            Start = End = 0;
            Memory = default;
            Next = null;
            if (previous is null)
            {
                RunningIndex = 0;
                return;
            }

            // No more bytes go into a block once it has a successor: its length is final.
            RunningIndex = previous.RunningIndex + previous.End;
            previous.Next = this;
        }

        /// <summary>After a recv: the sequence sees the bytes received so far.</summary>
        public void Grow() => Memory = _whole[..End];

        public void Detach()
        {
            _block?.Dispose();
            _block = null;
            _whole = default;
            Array = [];
            Memory = default;
            Next = null;
            Start = End = 0;
        }

        public void Link(Segment? next) => Next = next;
    }
}
