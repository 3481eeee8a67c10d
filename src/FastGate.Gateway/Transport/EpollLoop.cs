using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastGate.Gateway.Transport;

/// <summary>
/// One thread waiting in epoll_wait for the sockets assigned to it (edge-triggered, man 7 epoll):
/// the gateway's client connections and, with the same loops, its upstream connections. It signals
/// their readers and writers inline, then running the work other threads handed it
/// (connections close on it, and HTTP/2 request bodies may resume on it). An eventfd wakes it for
/// that work.
/// </summary>
internal sealed unsafe class EpollLoop : PipeScheduler, IDisposable
{
    private const int MaxEvents = 256;

    /// <summary>epoll data 0 is the loop's own eventfd; sockets are GCHandles of their <see cref="IEpollHandler"/>, never 0.</summary>
    private const ulong WakeData = 0;

    [ThreadStatic]
    private static EpollLoop? t_current;

    private readonly int _epoll;
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _work = new();
    private int _wakePending;
    private volatile bool _stopping;
    private volatile bool _stopped;

    public EpollLoop(string name)
    {
        _epoll = LinuxNative.EpollCreate1(LinuxNative.EpollCloexec);
        if (_epoll < 0)
        {
            throw NativeError("epoll_create1");
        }

        _wakeFd = LinuxNative.EventFd(0, LinuxNative.EfdNonblock | LinuxNative.EfdCloexec);
        if (_wakeFd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            LinuxNative.Close(_epoll);
            throw new IOException($"eventfd: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        Add(_wakeFd, LinuxNative.EpollIn | LinuxNative.EpollEt, WakeData);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>The loop whose thread is running this code; null on any other thread.</summary>
    public static EpollLoop? Current => t_current;

    /// <summary>The pooled async boxes this loop's thread keeps for itself (used on that thread only).</summary>
    public Async.LoopBoxes Boxes { get; } = new();

    /// <summary>
    /// Watches <paramref name="fd"/> for reading and writing, edge-triggered, for the life of the fd:
    /// EPOLLOUT stays armed, which costs nothing while sends succeed (an edge is only reported after
    /// a send found the buffer full), and saves an epoll_ctl per full buffer. Returns the handle the
    /// events carry to <paramref name="handler"/>; the caller frees it once the fd is closed (on this
    /// loop, between two batches). When epoll_ctl refuses the fd, the handle is freed and the
    /// <see cref="IOException"/> thrown.
    /// </summary>
    public GCHandle Register(int fd, IEpollHandler handler)
    {
        var handle = GCHandle.Alloc(handler);
        try
        {
            Add(fd, LinuxNative.EpollIn | LinuxNative.EpollOut | LinuxNative.EpollRdHup | LinuxNative.EpollEt, (ulong)GCHandle.ToIntPtr(handle));
            return handle;
        }
        catch
        {
            handle.Free();
            throw;
        }
    }

    /// <summary>
    /// <c>await loop.SwitchTo()</c> continues on the loop thread (at once when already there): work that
    /// starts elsewhere, such as a connection's handler that Kestrel starts on the thread pool, then
    /// runs where the connection's own sockets are served.
    /// </summary>
    public SwitchAwaitable SwitchTo() => new(this);

    public override void Schedule(Action<object?> action, object? state)
    {
        if (_stopped)
        {
            action(state);
            return;
        }

        _work.Enqueue((action, state));
        // The loop drains its queue before it waits again, so work it queues itself needs no wake;
        // other threads wake it once per drain.
        if (t_current != this && Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Wake();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Wake();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        LinuxNative.Close(_wakeFd);
        LinuxNative.Close(_epoll);
    }

    private void Add(int fd, uint events, ulong data)
    {
        byte* epollEvent = stackalloc byte[16];
        LinuxNative.WriteEvent(epollEvent, events, data);
        if (LinuxNative.EpollCtl(_epoll, LinuxNative.EpollCtlAdd, fd, epollEvent) != 0)
        {
            throw NativeError("epoll_ctl");
        }
    }

    private void Wake()
    {
        ulong one = 1;
        LinuxNative.Write(_wakeFd, (byte*)&one, sizeof(ulong));
    }

    private void Run()
    {
        t_current = this;
        // Nearly every request's heads are rented and returned on this thread.
        Protocols.Buffers.HeadBufferPool.KeepSomeOnThisThread();
        int eventSize = LinuxNative.EpollEventSize;
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * eventSize));
        try
        {
            while (!_stopping)
            {
                int count = LinuxNative.EpollWait(_epoll, events, MaxEvents, -1);
                if (count < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LinuxNative.EIntr)
                    {
                        continue;
                    }

                    throw new IOException($"epoll_wait: {Marshal.GetPInvokeErrorMessage(errno)}");
                }

                for (int i = 0; i < count; i++)
                {
                    byte* item = events + (i * eventSize);
                    ulong data = LinuxNative.ReadEventData(item);
                    if (data == WakeData)
                    {
                        // Reset the counter; the queue is drained below, after the events.
                        ulong value;
                        LinuxNative.Read(_wakeFd, (byte*)&value, sizeof(ulong));
                        continue;
                    }

                    // The handle stays allocated until the socket's close, which runs in the drain
                    // below, so an event already harvested for a closed socket still finds it.
                    var handler = (IEpollHandler)GCHandle.FromIntPtr((nint)data).Target!;
                    handler.OnEvents(LinuxNative.ReadEventMask(item));
                }

                RunWork();
            }
        }
        finally
        {
            _stopped = true;
            RunWork();
            NativeMemory.Free(events);
        }
    }

    private void RunWork()
    {
        Volatile.Write(ref _wakePending, 0);
        while (_work.TryDequeue(out var item))
        {
            item.Action(item.State);
        }
    }

    private static IOException NativeError(string call) =>
        new($"{call}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    /// <summary>The awaitable of <see cref="SwitchTo"/>.</summary>
    internal readonly struct SwitchAwaitable(EpollLoop loop) : ICriticalNotifyCompletion
    {
        public bool IsCompleted => t_current == loop;

        public SwitchAwaitable GetAwaiter() => this;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => UnsafeOnCompleted(continuation);

        // The async method builder restores the caller's execution context itself.
        public void UnsafeOnCompleted(Action continuation) => loop.Schedule(static state => ((Action)state!)(), continuation);
    }
}
