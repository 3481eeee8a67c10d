using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Tests.Transport;

/// <summary>The epoll output over a real loopback TCP pair: the writer on one end, a plain socket reading the other.</summary>
public sealed class EpollSocketWriterTests : IAsyncLifetime
{
    private readonly EpollBlockPool _pool = new();
    private readonly Owner _owner = new();
    private EpollSocketPair _pair = null!;
    private Socket _peer = null!;
    private EpollSocketWriter _writer = null!;

    public async Task InitializeAsync()
    {
        // Small buffers: a few hundred KiB fill the connection, so a flush has to wait.
        _pair = await EpollSocketPair.OpenAsync(_owner, "test-writer", smallBuffers: true);
        _peer = _pair.Peer;
        _writer = new EpollSocketWriter(_pair.Fd, _pool, _pair.Channel.Writable, _owner);
    }

    public async Task DisposeAsync() => await _pair.DisposeAsync();

    [Fact]
    public async Task A_flush_sends_exactly_what_was_written_and_completes_at_once()
    {
        Write("HTTP/1.1 200 OK\r\n"u8);
        Write("content-length: 2\r\n\r\nhi"u8);
        Assert.Equal(40, _writer.UnflushedBytes);
        var flush = _writer.FlushAsync();
        Assert.True(flush.IsCompletedSuccessfully);
        var result = await flush;
        Assert.False(result.IsCanceled || result.IsCompleted);
        Assert.Equal(0, _writer.UnflushedBytes);
        Assert.Equal("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi", System.Text.Encoding.ASCII.GetString(await ReadPeerAsync(40)));
        Assert.Equal(0, _owner.Ends);
    }

    [Fact]
    public async Task Writes_over_several_blocks_and_beyond_the_largest_arrive_whole_and_in_order()
    {
        var expected = Pattern(3 * EpollBlockPool.SmallBlockSize + 100);
        // Three small blocks, each filled, then a tail: one sendmsg gathers them.
        for (int offset = 0; offset < expected.Length; offset += EpollBlockPool.SmallBlockSize)
        {
            int length = Math.Min(EpollBlockPool.SmallBlockSize, expected.Length - offset);
            expected.AsSpan(offset, length).CopyTo(_writer.GetSpan(length));
            _writer.Advance(length);
        }

        var huge = Pattern(EpollBlockPool.LargeBlockSize + 1, seed: 7);
        huge.CopyTo(_writer.GetMemory(huge.Length).Span);
        _writer.Advance(huge.Length);
        var reading = ReadPeerAsync(expected.Length + huge.Length);
        var flush = await _writer.FlushAsync();
        Assert.False(flush.IsCanceled || flush.IsCompleted);
        var got = await reading;
        Assert.Equal(expected.Concat(huge).ToArray(), got);
    }

    [Fact]
    public async Task A_full_socket_makes_the_flush_wait_until_the_peer_reads()
    {
        var payload = Pattern(2 * 1024 * 1024);
        Write(payload);
        var flush = _writer.FlushAsync();
        Assert.False(flush.IsCompleted);

        // Writing while the flush waits (as HTTP/2 does) goes with the next flush.
        Write("tail"u8.ToArray());
        var received = ReadPeerAsync(payload.Length + 4);
        var result = await flush;
        Assert.False(result.IsCanceled || result.IsCompleted);
        Assert.False((await _writer.FlushAsync()).IsCompleted);
        var got = await received;
        Assert.Equal(payload.Concat("tail"u8.ToArray()).ToArray(), got);
    }

    [Fact]
    public async Task Cancel_wakes_a_waiting_flush_and_the_rest_goes_with_the_next_one()
    {
        var payload = Pattern(2 * 1024 * 1024);
        Write(payload);
        var flush = _writer.FlushAsync();
        Assert.False(flush.IsCompleted);
        _writer.CancelPendingFlush();
        Assert.True((await flush).IsCanceled);

        var received = ReadPeerAsync(payload.Length);
        var again = await _writer.FlushAsync();
        Assert.False(again.IsCanceled || again.IsCompleted);
        Assert.Equal(payload, await received);
    }

    [Fact]
    public async Task A_cancel_with_no_flush_waiting_cancels_the_next_flush()
    {
        _writer.CancelPendingFlush();
        Write("x"u8);
        Assert.True((await _writer.FlushAsync()).IsCanceled);
        Assert.False((await _writer.FlushAsync()).IsCanceled);
        Assert.Equal("x"u8.ToArray(), await ReadPeerAsync(1));
    }

    [Fact]
    public async Task A_peer_that_reset_ends_the_output_and_the_owner_hears_the_errno_once()
    {
        _peer.LingerState = new LingerOption(true, 0);
        _peer.Close();
        await Task.Delay(50);
        FlushResult result = default;
        for (int i = 0; i < 3 && !result.IsCompleted; i++)
        {
            Write(Pattern(1024));
            result = await _writer.FlushAsync();
        }

        Assert.True(result.IsCompleted);
        Assert.Equal(1, _owner.Ends);
        Assert.Contains(_owner.LastErrno, new[] { LinuxNative.EConnReset, LinuxNative.EPipe });
        Assert.True((await _writer.FlushAsync()).IsCompleted);
        _writer.Complete();
        Assert.Equal(1, _owner.Ends);
    }

    [Fact]
    public async Task Complete_with_the_socket_full_still_sends_everything_then_tells_the_owner()
    {
        var payload = Pattern(2 * 1024 * 1024);
        Write(payload);
        _writer.Complete();
        Assert.Equal(0, _owner.Ends);
        Assert.Equal(payload, await ReadPeerAsync(payload.Length));
        await _owner.Ended.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, _owner.Ends);
        Assert.Equal(0, _owner.LastErrno);
        for (int i = 0; i < 100 && Volatile.Read(ref _owner.Closes) == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, _owner.Closes);
    }

    [Fact]
    public async Task Stop_ends_a_waiting_flush_as_completed_and_tells_the_owner_once()
    {
        Write(Pattern(2 * 1024 * 1024));
        var flush = _writer.FlushAsync();
        Assert.False(flush.IsCompleted);
        _writer.Stop();
        Assert.True((await flush).IsCompleted);
        Assert.True((await _writer.FlushAsync()).IsCompleted);
        // Stopped, but not completed by its user: the fd must stay open (another thread may be in a send).
        Assert.Equal(0, _owner.Closes);
        _writer.Complete();
        Assert.Equal(1, _owner.Ends);
        Assert.Equal(1, _owner.Closes);
    }

    private void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var span = _writer.GetSpan();
            int n = Math.Min(span.Length, data.Length);
            data[..n].CopyTo(span);
            _writer.Advance(n);
            data = data[n..];
        }
    }

    private async Task<byte[]> ReadPeerAsync(int length)
    {
        var buffer = new byte[length];
        int read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (read < length)
        {
            int n = await _peer.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            Assert.NotEqual(0, n);
            read += n;
        }

        return buffer;
    }

    private static byte[] Pattern(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private sealed class Owner : IEpollChannelOwner
    {
        public int Ends;
        public int LastErrno = -1;
        public readonly TaskCompletionSource Ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Exception? OnReceiveEnded(int errno) => null;

        public int Closes;

        public void OnPeerClosed()
        {
        }

        public void OnClosed() => Interlocked.Increment(ref Closes);

        public void OnSendEnded(int errno, Exception? error)
        {
            LastErrno = errno;
            Interlocked.Increment(ref Ends);
            Ended.TrySetResult();
        }
    }
}
