namespace FastGate.Gateway.Transport;

/// <summary>A connection of the epoll transport: the loop whose thread serves its socket.</summary>
internal interface IEpollLoopFeature
{
    EpollLoop Loop { get; }
}
