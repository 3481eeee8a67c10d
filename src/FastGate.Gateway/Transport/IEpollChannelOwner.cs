namespace FastGate.Gateway.Transport;

/// <summary>
/// What the two directions of an epoll socket report to the connection that owns it: its
/// <see cref="EpollSocketReader"/> and <see cref="EpollSocketWriter"/> when they end (once each), and
/// its <see cref="EpollSocketChannel"/> when the peer closes.
/// </summary>
internal interface IEpollChannelOwner
{
    /// <summary>The input ended: the peer's FIN, a failed recv, a stop or the reader's Complete.</summary>
    /// <param name="errno">0 after a FIN, a stop or the reader's end; else the errno of the failed recv</param>
    /// <returns>what the reader's reads throw from now, or null for them to end as at a FIN</returns>
    Exception? OnReceiveEnded(int errno);

    /// <param name="errno">0 after the writer completed and sent all, or a stop; else the errno of the failed send</param>
    /// <param name="error">what the writer was completed with, if anything</param>
    void OnSendEnded(int errno, Exception? error);

    /// <summary>On the loop thread: epoll saw the peer's FIN, a hang-up or an error, before any read did.</summary>
    void OnPeerClosed();

    /// <summary>
    /// The reader or the writer was completed by its user and makes no more system calls (the writer once
    /// what it still had to send went): called once by each. Only after both may the fd close; a stop, a
    /// FIN or a failed call ends a direction but does not count, since another thread may still be in a
    /// recv or send on the fd, which a close would hand to the next accepted connection.
    /// </summary>
    void OnClosed();
}
