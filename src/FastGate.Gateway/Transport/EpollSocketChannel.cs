using System.IO.Pipelines;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The receive loop of one non-blocking socket of an <see cref="EpollLoop"/>, for client connections
/// and upstream connections alike, and the socket's registered handler: epoll's edges become its two
/// readiness signals (<see cref="Readable"/> for this loop, <see cref="Writable"/> for the socket's
/// <see cref="EpollSocketWriter"/>). The loop wakes on the loop thread and recvs into a pipe until a
/// short read or EAGAIN (no zero-byte read first), flushing after each recv. The owner decides when it
/// stops and what an errno means; the loop only reports it, in one call to the owner at its end.
/// </summary>
internal sealed class EpollSocketChannel(int fd, IEpollChannelOwner owner) : IEpollHandler
{
    private volatile bool _peerClosed;
    private volatile bool _receiveStopped;

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

    /// <summary>
    /// Receives into <paramref name="writer"/> until the peer's FIN, a stop, the reader's end, or a
    /// failed recv, then tells the owner (<see cref="IEpollChannelOwner.OnReceiveEnded"/>).
    /// </summary>
    public async Task ReceiveAsync(PipeWriter writer)
    {
        int errno = 0;
        Exception? error = null;
        try
        {
            int hint = 1;
            while (true)
            {
                await Readable.WaitAsync().ConfigureAwait(false);
                if (_receiveStopped)
                {
                    return;
                }

                while (true)
                {
                    var memory = writer.GetMemory(hint);
                    int received = EpollSocketIo.Receive(fd, memory.Span, out errno);
                    if (received > 0)
                    {
                        writer.Advance(received);
                        // A read that filled a small block asks for a large one next: a body then arrives
                        // 64 KiB per recv; heads and small bodies keep using small blocks.
                        hint = received >= EpollBlockPool.SmallBlockSize ? EpollBlockPool.LargeBlockSize : 1;
                        var flush = await writer.FlushAsync().ConfigureAwait(false);
                        if (flush.IsCompleted || flush.IsCanceled || _receiveStopped)
                        {
                            return;
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
                        return;
                    }
                    else if (errno == LinuxNative.EAgain)
                    {
                        errno = 0;
                        break;
                    }
                    else if (errno != LinuxNative.EIntr)
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            owner.OnReceiveEnded(writer, errno, error);
        }
    }
}
