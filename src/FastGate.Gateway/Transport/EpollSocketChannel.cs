using System.IO.Pipelines;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The two loops that pump one non-blocking socket of an <see cref="EpollLoop"/> through pipes, for
/// client connections and upstream connections alike. It is the socket's registered handler: epoll's
/// edges become its two readiness signals. The receive loop wakes on the loop thread and recvs until
/// a short read or EAGAIN (no zero-byte read first), flushing after each recv; the send loop runs
/// inline in the owner's flush and sends all that was flushed with one send/sendmsg, waiting for
/// EPOLLOUT only when the socket buffer is full. The owner decides when the loops stop and what an
/// errno means; the loops only report it.
/// </summary>
internal sealed class EpollSocketChannel(int fd) : IEpollHandler
{
    private volatile bool _peerClosed;
    private volatile bool _receiveStopped;
    private volatile bool _sendStopped;

    public ReadinessSignal Readable { get; } = new();

    public ReadinessSignal Writable { get; } = new();

    /// <summary>On the loop thread: what epoll reported for the socket.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (LinuxNative.EpollRdHup | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0)
        {
            // The FIN (or error) may arrive with the last data, in the same edge: read to the end.
            _peerClosed = true;
        }

        if ((events & (LinuxNative.EpollIn | LinuxNative.EpollRdHup | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0)
        {
            Readable.Signal();
        }

        if ((events & (LinuxNative.EpollOut | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0)
        {
            Writable.Signal();
        }
    }

    /// <summary>The receive loop ends at its next turn; the owner wakes it (<see cref="Readable"/>) if it waits.</summary>
    public void StopReceiving() => _receiveStopped = true;

    /// <summary>The send loop ends at its next turn; the owner wakes it if it waits for output or for <see cref="Writable"/>.</summary>
    public void StopSending() => _sendStopped = true;

    /// <summary>
    /// Receives into <paramref name="writer"/> until the peer's FIN, a stop, the reader's end, or a
    /// failed recv. The writer is left to the caller to complete.
    /// </summary>
    /// <returns>0, or the errno of the failed recv</returns>
    public async Task<int> ReceiveAsync(PipeWriter writer)
    {
        int hint = 1;
        while (true)
        {
            await Readable.WaitAsync().ConfigureAwait(false);
            if (_receiveStopped)
            {
                return 0;
            }

            while (true)
            {
                var memory = writer.GetMemory(hint);
                int received = EpollSocketIo.Receive(fd, memory.Span, out int errno);
                if (received > 0)
                {
                    writer.Advance(received);
                    // A read that filled a small block asks for a large one next: a body then arrives
                    // 64 KiB per recv; heads and small bodies keep using small blocks.
                    hint = received >= EpollBlockPool.SmallBlockSize ? EpollBlockPool.LargeBlockSize : 1;
                    var flush = await writer.FlushAsync().ConfigureAwait(false);
                    if (flush.IsCompleted || flush.IsCanceled || _receiveStopped)
                    {
                        return 0;
                    }

                    // Edge-triggered: data that arrives after this recv raises a new edge, so a short
                    // read ends the turn, unless the peer closed in the edge already seen.
                    if (received < memory.Length && !_peerClosed)
                    {
                        break;
                    }
                }
                else if (received == 0)
                {
                    // FIN (RFC 9293 section 3.6): the peer sends no more.
                    return 0;
                }
                else if (errno == LinuxNative.EAgain)
                {
                    break;
                }
                else if (errno != LinuxNative.EIntr)
                {
                    return errno;
                }
            }
        }
    }

    /// <summary>
    /// Sends what <paramref name="reader"/> yields until its writer completes, a stop (or a canceled
    /// read), or a failed send. The reader is left to the caller to complete.
    /// </summary>
    /// <returns>0, or the errno of the failed send</returns>
    public async Task<int> SendAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled || _sendStopped)
            {
                return 0;
            }

            var buffer = result.Buffer;
            while (!buffer.IsEmpty)
            {
                long sent = EpollSocketIo.Send(fd, buffer, out int errno);
                if (sent >= 0)
                {
                    buffer = buffer.Slice(sent);
                }
                else if (errno == LinuxNative.EAgain)
                {
                    await Writable.WaitAsync().ConfigureAwait(false);
                    if (_sendStopped)
                    {
                        return 0;
                    }
                }
                else if (errno != LinuxNative.EIntr)
                {
                    return errno;
                }
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return 0;
            }
        }
    }
}
