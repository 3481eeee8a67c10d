using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using FastGate.Gateway.Transport;

namespace FastGate.Gateway.Tests.Transport;

/// <summary>The epoll input over a real loopback TCP pair: a plain socket sends, the reader reads the other end.</summary>
public sealed class EpollSocketReaderTests : IAsyncLifetime
{
    private readonly EpollBlockPool _pool = new();
    private readonly Owner _owner = new();
    private EpollSocketPair _pair = null!;
    private Socket _peer = null!;
    private EpollSocketReader _reader = null!;

    public async Task InitializeAsync()
    {
        _pair = await EpollSocketPair.OpenAsync(_owner, "test-reader");
        _peer = _pair.Peer;
        _reader = new EpollSocketReader(_pair.Fd, _pool, _pair.Channel, _owner);
    }

    public async Task DisposeAsync() => await _pair.DisposeAsync();

    [Fact]
    public async Task A_read_waits_for_bytes_and_returns_exactly_what_arrived()
    {
        var read = _reader.ReadAsync();
        Assert.False(read.IsCompleted);
        await _peer.SendAsync("GET / HTTP/1.1\r\n"u8.ToArray());
        var result = await read.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("GET / HTTP/1.1\r\n", System.Text.Encoding.ASCII.GetString(result.Buffer.ToArray()));
        Assert.False(result.IsCompleted || result.IsCanceled);
        _reader.AdvanceTo(result.Buffer.End);
    }

    [Fact]
    public async Task Unexamined_bytes_come_back_at_once_and_examined_ones_wait_for_more()
    {
        await _peer.SendAsync("abcdef"u8.ToArray());
        var first = await ReadAtLeastAsync(6);
        // Consumed 2, examined 4: the next read returns the 4 unconsumed bytes at once.
        _reader.AdvanceTo(first.Buffer.GetPosition(2), first.Buffer.GetPosition(4));
        var second = _reader.ReadAsync();
        Assert.True(second.IsCompleted);
        var again = await second;
        Assert.Equal("cdef"u8.ToArray(), again.Buffer.ToArray());

        // Nothing consumed, everything examined: the next read waits for new bytes and returns all of them.
        _reader.AdvanceTo(again.Buffer.Start, again.Buffer.End);
        var third = _reader.ReadAsync();
        Assert.False(third.IsCompleted);
        await _peer.SendAsync("gh"u8.ToArray());
        var more = await third.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("cdefgh"u8.ToArray(), more.Buffer.ToArray());
        _reader.AdvanceTo(more.Buffer.End);
    }

    [Fact]
    public async Task Bytes_over_several_blocks_arrive_whole_and_in_order()
    {
        var payload = new byte[200_000];
        new Random(3).NextBytes(payload);
        var sending = _peer.SendAsync(payload);
        var received = new List<byte>();
        while (received.Count < payload.Length)
        {
            var result = await _reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            // Consume a part only, so that blocks pile up and the sequence spans several of them.
            long take = Math.Min(result.Buffer.Length, 5000);
            if (received.Count + result.Buffer.Length >= payload.Length)
            {
                take = result.Buffer.Length;
            }

            received.AddRange(result.Buffer.Slice(0, take).ToArray());
            _reader.AdvanceTo(result.Buffer.GetPosition(take), result.Buffer.End);
        }

        await sending;
        Assert.Equal(payload, received.ToArray());
    }

    [Fact]
    public async Task The_peers_fin_ends_the_reads_after_its_last_bytes_and_the_owner_hears_it_once()
    {
        await _peer.SendAsync("last"u8.ToArray());
        _peer.Shutdown(SocketShutdown.Send);
        ReadResult result;
        do
        {
            result = await _reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (!result.IsCompleted)
            {
                _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        while (!result.IsCompleted);

        Assert.Equal("last"u8.ToArray(), result.Buffer.ToArray());
        _reader.AdvanceTo(result.Buffer.End);
        Assert.True((await _reader.ReadAsync()).IsCompleted);
        // The input ended, but the fd may close only once its user completed the reader.
        Assert.Equal(0, _owner.Closes);
        _reader.Complete();
        Assert.Equal(1, _owner.Ends);
        Assert.Equal(1, _owner.Closes);
        Assert.Equal(0, _owner.LastErrno);
        Assert.True(_owner.PeerClosed);
    }

    [Fact]
    public async Task Cancel_wakes_a_waiting_read_and_a_cancel_before_a_read_cancels_it()
    {
        var waiting = _reader.ReadAsync();
        Assert.False(waiting.IsCompleted);
        _reader.CancelPendingRead();
        var canceled = await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(canceled.IsCanceled);
        _reader.AdvanceTo(canceled.Buffer.Start);

        _reader.CancelPendingRead();
        Assert.True((await _reader.ReadAsync()).IsCanceled);

        await _peer.SendAsync("x"u8.ToArray());
        var data = await ReadAtLeastAsync(1);
        Assert.False(data.IsCanceled);
        Assert.Equal("x"u8.ToArray(), data.Buffer.ToArray());
    }

    [Fact]
    public async Task Stop_ends_a_waiting_read_with_the_owners_reason()
    {
        _owner.Reason = new IOException("stopped by the test");
        var waiting = _reader.ReadAsync();
        Assert.False(waiting.IsCompleted);
        _reader.Stop(wake: true);
        var error = await Assert.ThrowsAsync<IOException>(async () => await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Same(_owner.Reason, error);
        Assert.Equal(1, _owner.Ends);
    }

    [Fact]
    public async Task TryRead_sees_nothing_until_bytes_or_the_fin_arrive()
    {
        Assert.False(_reader.TryRead(out _));
        await _peer.SendAsync("y"u8.ToArray());
        Assert.True(await EventuallyAsync(() =>
        {
            if (!_reader.TryRead(out var result))
            {
                return false;
            }

            bool got = result.Buffer.Length == 1;
            _reader.AdvanceTo(result.Buffer.Start);
            return got;
        }));

        _peer.Shutdown(SocketShutdown.Send);
        Assert.True(await EventuallyAsync(() =>
        {
            if (!_reader.TryRead(out var result))
            {
                return false;
            }

            _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            return result.IsCompleted;
        }));
    }

    private async Task<ReadResult> ReadAtLeastAsync(int length)
    {
        while (true)
        {
            var result = await _reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (result.Buffer.Length >= length)
            {
                return result;
            }

            _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        for (int i = 0; i < 200; i++)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(10);
        }

        return false;
    }

    private sealed class Owner : IEpollChannelOwner
    {
        public int Ends;
        public int LastErrno = -1;
        public bool PeerClosed;
        public Exception? Reason;

        public Exception? OnReceiveEnded(int errno)
        {
            LastErrno = errno;
            Interlocked.Increment(ref Ends);
            return Reason;
        }

        public void OnSendEnded(int errno, Exception? error)
        {
        }

        public int Closes;

        public void OnPeerClosed() => PeerClosed = true;

        public void OnClosed() => Interlocked.Increment(ref Closes);
    }
}
