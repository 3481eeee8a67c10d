using System.IO.Pipelines;

namespace FastGate.Gateway.Transport;

/// <summary>What an <see cref="EpollSocketChannel"/>'s loops report to the connection they pump, on their last step.</summary>
internal interface IEpollChannelOwner
{
    /// <param name="writer">the pipe end the loop received into; the owner completes it</param>
    /// <param name="errno">0 after a FIN, a stop or the reader's end; else the errno of the failed recv</param>
    /// <param name="error">what the loop threw, if it did</param>
    void OnReceiveEnded(PipeWriter writer, int errno, Exception? error);

    /// <param name="reader">the pipe end the loop sent from; the owner completes it</param>
    /// <param name="errno">0 after the output ended or a stop; else the errno of the failed send</param>
    /// <param name="error">what the loop threw, if it did</param>
    void OnSendEnded(PipeReader reader, int errno, Exception? error);
}
