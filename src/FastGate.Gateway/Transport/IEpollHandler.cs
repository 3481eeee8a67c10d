namespace FastGate.Gateway.Transport;

/// <summary>A socket registered with an <see cref="EpollLoop"/>: told, on the loop thread, what epoll reported for it.</summary>
internal interface IEpollHandler
{
    /// <param name="events">the epoll_event mask (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP, EPOLLERR)</param>
    void OnEvents(uint events);
}
