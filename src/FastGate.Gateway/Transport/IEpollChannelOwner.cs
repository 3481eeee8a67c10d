using System.IO.Pipelines;

namespace FastGate.Gateway.Transport;

/// <summary>
/// What the two directions of an epoll socket report to the connection that owns it, once each: the
/// receive loop of its <see cref="EpollSocketChannel"/> on its last step, its <see cref="EpollSocketWriter"/>
/// when the output ends.
/// </summary>
internal interface IEpollChannelOwner
{
    /// <param name="writer">the pipe end the loop received into; the owner completes it</param>
    /// <param name="errno">0 after a FIN, a stop or the reader's end; else the errno of the failed recv</param>
    /// <param name="error">what the loop threw, if it did</param>
    void OnReceiveEnded(PipeWriter writer, int errno, Exception? error);

    /// <param name="errno">0 after the writer completed and sent all, or a stop; else the errno of the failed send</param>
    /// <param name="error">what the writer was completed with, if anything</param>
    void OnSendEnded(int errno, Exception? error);
}
