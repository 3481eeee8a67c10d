using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastGate.Gateway.Async;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The output of a non-blocking socket on an <see cref="EpollLoop"/> as a <see cref="PipeWriter"/>
/// with no pipe behind it: the caller writes into blocks of the loops' pool, and its flush sends
/// them with one send/sendmsg on its own thread, then gives the blocks back, so an idle connection
/// holds none. A flush waits (for EPOLLOUT, through <see cref="ReadinessSignal"/>) only when the
/// socket buffer is full; on loopback and for answers of a few KiB it never does.
/// </summary>
/// <remarks>
/// NOTE: the first transport flushed into a <see cref="Pipe"/> whose reader, a send loop per socket,
/// ran inline in the flush: every flush took the pipe's lock three times, resumed that loop's state
/// machine and re-armed its read, about 3% of the proxy's CPU per request in a keep-alive profile,
/// and every idle connection kept the loop's state machine and the pipe.
/// <para>
/// One caller writes at a time (the PipeWriter contract), and flushes one at a time. HTTP/2 keeps
/// writing frames while its flush loop waits for a flush: that flush sends only the bytes flushed
/// before it, and never gives back the block being written, so a waiting flush and a writer touch
/// different blocks. <see cref="CancelPendingFlush"/> and <see cref="Stop"/> come from any thread.
/// </para>
/// </remarks>
internal sealed class EpollSocketWriter : PipeWriter
{
    /// <summary>sendmsg gathers at most this many blocks at once (IOV_MAX is 1024, man 2 writev).</summary>
    private const int MaxSendVectors = 32;

    /// <summary>A 64 KiB answer written in pieces takes a small block and a large one: a few spares cover it.</summary>
    private const int MaxSpareSegments = 4;

    private static readonly FlushResult Flushed = new(isCanceled: false, isCompleted: false);
    private static readonly FlushResult Canceled = new(isCanceled: true, isCompleted: false);
    private static readonly FlushResult Ended = new(isCanceled: false, isCompleted: true);

    private readonly int _fd;
    private readonly EpollBlockPool _pool;
    private readonly ReadinessSignal _writable;
    private readonly IEpollChannelOwner _owner;
    // Orders a waiting flush's end against Complete from another thread (never taken on the fast path).
    private readonly Lock _gate = new();

    // The written bytes, oldest first: from _head.Start to _tail.End. The first _unsent of them are
    // flushed and wait to be sent; the _unflushed after them were written since the last flush.
    private Segment? _head;
    private Segment? _tail;
    // Segment objects for the next writes (linked by Next), at most MaxSpareSegments; only the caller's
    // thread recycles into it (a flush that waited drops what it sent to the GC).
    private Segment? _spare;
    private int _spareCount;
    private long _unsent;
    private long _unflushed;

    private int _flushWaiting;
    private volatile bool _cancelFlush;
    private volatile bool _stopped;
    private bool _failed;
    private bool _completed;
    private int _ended;

    /// <param name="fd">the socket, non-blocking and registered with its loop</param>
    /// <param name="writable">the socket's EPOLLOUT edges</param>
    /// <param name="owner">told once when the output ends (<see cref="IEpollChannelOwner.OnSendEnded"/>) and once
    /// when it is completed and done with the fd (<see cref="IEpollChannelOwner.OnClosed"/>)</param>
    public EpollSocketWriter(int fd, EpollBlockPool pool, ReadinessSignal writable, IEpollChannelOwner owner)
    {
        _fd = fd;
        _pool = pool;
        _writable = writable;
        _owner = owner;
    }

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _unflushed;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        var tail = WritableTail(sizeHint);
        return tail.Memory[tail.End..];
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        var tail = WritableTail(sizeHint);
        return tail.Array is { } array ? array.AsSpan(tail.End, tail.Memory.Length - tail.End) : tail.Memory.Span[tail.End..];
    }

    /// <summary>The block being written, or a new one when it has less room than <paramref name="sizeHint"/> (at least 1).</summary>
    private Segment WritableTail(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var tail = _tail;
        return tail is null || tail.Memory.Length - tail.End < Math.Max(sizeHint, 1) ? AddSegment(sizeHint) : tail;
    }

    /// <summary>What was written since the last flush joins what waits to be sent.</summary>
    private void Commit()
    {
        _unsent += _unflushed;
        _unflushed = 0;
    }

    public override void Advance(int bytes)
    {
        var tail = _tail;
        if (bytes == 0)
        {
            return;
        }

        if (tail is null || (uint)bytes > (uint)(tail.Memory.Length - tail.End))
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "Advanced past the memory given by GetMemory.");
        }

        tail.End += bytes;
        _unflushed += bytes;
    }

    /// <summary>
    /// Sends everything written so far. Completes at once unless the socket buffer is full; reports
    /// IsCompleted once the output ended (a failed send, or the connection's abort), and IsCanceled
    /// after <see cref="CancelPendingFlush"/> (what is unsent then goes with the next flush).
    /// </summary>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        Commit();
        if (_failed || _stopped)
        {
            return new ValueTask<FlushResult>(Ended);
        }

        int errno = SendUnsent(releaseTail: true);
        if (errno == LinuxNative.EAgain)
        {
            lock (_gate)
            {
                if (_completed)
                {
                    return new ValueTask<FlushResult>(Ended);
                }

                _flushWaiting = 1;
            }

            return WaitAndSendAsync(cancellationToken);
        }

        if (errno != 0)
        {
            Fail(errno);
            return new ValueTask<FlushResult>(Ended);
        }

        if (_cancelFlush)
        {
            _cancelFlush = false;
            return new ValueTask<FlushResult>(Canceled);
        }

        return new ValueTask<FlushResult>(Flushed);
    }

    /// <summary>Wakes a flush that waits for the socket (its result is IsCanceled), or cancels the next flush.</summary>
    public override void CancelPendingFlush()
    {
        _cancelFlush = true;
        if (Volatile.Read(ref _flushWaiting) != 0)
        {
            _writable.Signal();
        }
    }

    /// <summary>
    /// Ends the output: what was written is still sent (waiting for the socket if it must), then the
    /// owner is told. The blocks go back to the pool once sent.
    /// </summary>
    public override void Complete(Exception? exception = null)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            if (_flushWaiting != 0)
            {
                // Complete on another thread than the waiting flush (a connection closed while its send
                // waited): nothing more is sent, and the flush's end gives the blocks back.
                _stopped = true;
                _writable.Signal();
                End(0, exception);
                return;
            }
        }

        Commit();
        if (_unsent == 0 || _failed || _stopped)
        {
            ReleaseAll();
            End(0, exception);
            _owner.OnClosed();
            return;
        }

        int errno = SendUnsent(releaseTail: true);
        if (errno == LinuxNative.EAgain)
        {
            _ = DrainAsync(exception);
            return;
        }

        ReleaseAll();
        End(errno, exception);
        _owner.OnClosed();
    }

    /// <summary>
    /// The connection aborts: nothing more is sent, a waiting flush ends with IsCompleted, and the owner
    /// is told now. The blocks go back when the caller completes the writer. Any thread.
    /// </summary>
    public void Stop()
    {
        _stopped = true;
        _writable.Signal();
        End(0, null);
    }

    /// <summary>Sends what is flushed and unsent: 0 when all of it went, EAGAIN when the socket is full, else the errno.</summary>
    /// <param name="releaseTail">
    /// give back the block being written too, once all of it is sent: only on the caller's own thread
    /// (a flush that waited runs on the loop's, while HTTP/2 may be writing into that block).
    /// </param>
    private int SendUnsent(bool releaseTail)
    {
        while (_unsent > 0)
        {
            nint sent = Send();
            if (sent >= 0)
            {
                Consume(sent, recycle: releaseTail);
                continue;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != LinuxNative.EIntr)
            {
                return errno;
            }
        }

        if (releaseTail && _head is { } head && head == _tail && head.Start == head.End)
        {
            // All written bytes are sent: an idle connection holds no block.
            ReleaseBlock(head);
            _head = _tail = null;
            Recycle(head);
        }

        return 0;
    }

    /// <summary>One send(2) for one block, one sendmsg(2) gathering several: nothing is copied.</summary>
    private unsafe nint Send()
    {
        var head = _head!;
        int first = (int)Math.Min(head.End - head.Start, _unsent);
        if (first == _unsent || head.Next is null)
        {
            if (head.Array is { } array)
            {
                // The pool's arrays live on the pinned heap: fixing one costs nothing.
                fixed (byte* pointer = array)
                {
                    return LinuxNative.Send(_fd, pointer + head.Start, (nuint)first, LinuxNative.MsgNoSignal);
                }
            }

            using var pin = head.Memory.Pin();
            return LinuxNative.Send(_fd, (byte*)pin.Pointer + head.Start, (nuint)first, LinuxNative.MsgNoSignal);
        }

        var vectors = stackalloc LinuxNative.IoVector[MaxSendVectors];
        var handles = new PinSet();
        int count = 0;
        long left = _unsent;
        for (var segment = head; segment is not null && left > 0 && count < MaxSendVectors; segment = segment.Next)
        {
            int length = (int)Math.Min(segment.End - segment.Start, left);
            if (length == 0)
            {
                continue;
            }

            var pin = segment.Memory.Pin();
            handles[count] = pin;
            vectors[count].Base = (byte*)pin.Pointer + segment.Start;
            vectors[count].Length = (nuint)length;
            left -= length;
            count++;
        }

        var message = new LinuxNative.MessageHeader { Vectors = vectors, VectorCount = (nuint)count };
        nint sent = LinuxNative.SendMsg(_fd, &message, LinuxNative.MsgNoSignal);
        int errno = Marshal.GetLastPInvokeError();
        for (int i = 0; i < count; i++)
        {
            handles[i].Dispose();
        }

        Marshal.SetLastPInvokeError(errno);
        return sent;
    }

    /// <summary>Moves past <paramref name="sent"/> bytes; blocks wholly sent go back, except the one being written.</summary>
    /// <param name="recycle">keep the emptied segment objects (only on the caller's thread)</param>
    private void Consume(nint sent, bool recycle)
    {
        _unsent -= sent;
        long left = sent;
        var head = _head!;
        while (true)
        {
            int step = (int)Math.Min(head.End - head.Start, left);
            head.Start += step;
            left -= step;
            // A block partly sent, or the one being written (HTTP/2 may be writing into it now), stays.
            if (head.Start < head.End || head == Volatile.Read(ref _tail))
            {
                break;
            }

            var next = head.Next!;
            ReleaseBlock(head);
            head.Next = null;
            if (recycle)
            {
                Recycle(head);
            }

            _head = head = next;
            if (left == 0)
            {
                break;
            }
        }
    }

    private Segment AddSegment(int sizeHint)
    {
        int size = Math.Max(sizeHint, 1);
        var tail = _tail;
        if (tail is not null && tail.End == tail.Memory.Length && size <= EpollBlockPool.SmallBlockSize)
        {
            // A block was filled: a large answer is being written, so the next block is a large one (two
            // blocks and two iovecs for 64 KiB instead of sixteen).
            size = EpollBlockPool.LargeBlockSize;
        }

        Segment segment;
        if (tail is not null && tail.Start == tail.End && tail == _head && _unsent == 0)
        {
            // The block being written holds nothing unsent: swap it for one large enough.
            ReleaseBlock(tail);
            segment = tail;
        }
        else
        {
            segment = _spare ?? new Segment();
            if (segment == _spare)
            {
                _spare = segment.Next;
                _spareCount--;
            }

            if (tail is null)
            {
                _head = segment;
            }
            else
            {
                tail.Next = segment;
            }

            Volatile.Write(ref _tail, segment);
        }

        segment.Start = 0;
        segment.End = 0;
        segment.Next = null;
        if (size <= EpollBlockPool.LargeBlockSize)
        {
            var block = _pool.Rent(size);
            segment.Owner = block;
            segment.Memory = block.Memory;
            segment.Array = EpollBlockPool.ArrayOf(block);
        }
        else
        {
            // Larger than any block (PipeWriter allows any size hint): an array of its own, for this write.
            segment.Owner = null;
            segment.Array = new byte[size];
            segment.Memory = segment.Array;
        }

        return segment;
    }

    private void Recycle(Segment segment)
    {
        if (_spareCount < MaxSpareSegments)
        {
            segment.Next = _spare;
            _spare = segment;
            _spareCount++;
        }
    }

    private static void ReleaseBlock(Segment segment)
    {
        segment.Owner?.Dispose();
        segment.Owner = null;
        segment.Array = null;
        segment.Memory = default;
        segment.Start = 0;
        segment.End = 0;
    }

    private void ReleaseAll()
    {
        for (var segment = _head; segment is not null;)
        {
            var next = segment.Next;
            ReleaseBlock(segment);
            segment.Next = null;
            segment = next;
        }

        _head = _tail = null;
        _unsent = 0;
        _unflushed = 0;
    }

    private void Fail(int errno)
    {
        _failed = true;
        End(errno, null);
    }

    private void End(int errno, Exception? error)
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            _owner.OnSendEnded(errno, error);
        }
    }

    /// <summary>The socket buffer is full: waits for EPOLLOUT and sends the rest of this flush.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> WaitAndSendAsync(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((EpollSocketWriter)state!).CancelPendingFlush(), this)
            : default;
        try
        {
            while (true)
            {
                await _writable.WaitAsync().ConfigureAwait(false);
                if (_stopped || _failed)
                {
                    return Ended;
                }

                if (_cancelFlush)
                {
                    _cancelFlush = false;
                    cancellationToken.ThrowIfCancellationRequested();
                    return Canceled;
                }

                int errno = SendUnsent(releaseTail: false);
                if (errno == 0)
                {
                    return Flushed;
                }

                if (errno != LinuxNative.EAgain)
                {
                    Fail(errno);
                    return Ended;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                Volatile.Write(ref _flushWaiting, 0);
                if (_completed)
                {
                    // Completed while this flush waited: its blocks go back here, on the thread that used them
                    // last, and the fd may close only now that its send is over.
                    ReleaseAll();
                    _owner.OnClosed();
                }
            }
        }
    }

    /// <summary>Complete found the socket full: sends the rest in the background, then tells the owner.</summary>
    private async Task DrainAsync(Exception? exception)
    {
        int errno = LinuxNative.EAgain;
        while (errno == LinuxNative.EAgain && !_stopped)
        {
            await _writable.WaitAsync().ConfigureAwait(false);
            errno = _stopped ? 0 : SendUnsent(releaseTail: true);
        }

        ReleaseAll();
        End(errno, exception);
        _owner.OnClosed();
    }

    /// <summary>Pins of one sendmsg's blocks (free for the pool's pinned arrays).</summary>
    [InlineArray(MaxSendVectors)]
    private struct PinSet
    {
        private MemoryHandle _element;
    }

    private sealed class Segment
    {
        public IMemoryOwner<byte>? Owner;
        public byte[]? Array;
        public Memory<byte> Memory;
        /// <summary>The first byte not sent yet.</summary>
        public int Start;
        /// <summary>The end of the bytes written.</summary>
        public int End;
        public Segment? Next;
    }
}
