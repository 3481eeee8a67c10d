namespace FastGate.Gateway.Transport;

/// <summary>
/// The epoll handler of one non-blocking socket of an <see cref="EpollLoop"/>, client and upstream
/// connections alike: epoll's edges become its two readiness signals, <see cref="Readable"/> for the
/// socket's <see cref="EpollSocketReader"/> and <see cref="Writable"/> for its
/// <see cref="EpollSocketWriter"/>, and the peer's close is reported to the owner once.
/// </summary>
internal sealed class EpollSocketChannel(IEpollChannelOwner owner) : IEpollHandler
{
    private volatile bool _peerClosed;

    public ReadinessSignal Readable { get; } = new();

    public ReadinessSignal Writable { get; } = new();

    /// <summary>The peer sent its FIN (or the connection failed): a reader reads on to the end.</summary>
    public bool PeerClosed => _peerClosed;

    /// <summary>On the loop thread: what epoll reported for the socket.</summary>
    public void OnEvents(uint events)
    {
        if ((events & (LinuxNative.EpollRdHup | LinuxNative.EpollHup | LinuxNative.EpollErr)) != 0 && !_peerClosed)
        {
            // The FIN (or error) may arrive with the last data, in the same edge: read to the end.
            _peerClosed = true;
            owner.OnPeerClosed();
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
}
