using System.Buffers;
using System.Runtime.InteropServices;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The receive and send system calls of the epoll loops' sockets (client and upstream alike), on
/// non-blocking fds: a negative result comes with its errno, EAGAIN meaning "wait for the next edge".
/// </summary>
internal static unsafe class EpollSocketIo
{
    /// <summary>
    /// sendmsg gathers at most this many segments at once (IOV_MAX is 1024, man 2 writev): 32 pool
    /// blocks are up to 2 MiB, beyond what one send takes on loopback.
    /// </summary>
    private const int MaxSendVectors = 32;

    [ThreadStatic]
    private static MemoryHandle[]? t_pins;

    /// <summary>Sets O_NONBLOCK on <paramref name="fd"/> (fcntl(2) F_GETFL, F_SETFL); throws an <see cref="IOException"/> on failure.</summary>
    public static void MakeNonBlocking(int fd)
    {
        int flags = LinuxNative.Fcntl(fd, LinuxNative.FGetFl, 0);
        if (flags < 0 || LinuxNative.Fcntl(fd, LinuxNative.FSetFl, flags | LinuxNative.ONonblock) < 0)
        {
            throw new IOException($"fcntl: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    public static int Receive(int fd, Span<byte> buffer, out int errno)
    {
        nint received;
        fixed (byte* pointer = buffer)
        {
            received = LinuxNative.Recv(fd, pointer, (nuint)buffer.Length, 0);
        }

        errno = received < 0 ? Marshal.GetLastPInvokeError() : 0;
        return (int)received;
    }

    /// <summary>One send(2) for one segment, one sendmsg(2) gathering several: the output is never copied.</summary>
    public static long Send(int fd, in ReadOnlySequence<byte> buffer, out int errno)
    {
        nint sent;
        if (buffer.IsSingleSegment)
        {
            var span = buffer.FirstSpan;
            fixed (byte* pointer = span)
            {
                sent = LinuxNative.Send(fd, pointer, (nuint)span.Length, LinuxNative.MsgNoSignal);
            }

            errno = sent < 0 ? Marshal.GetLastPInvokeError() : 0;
            return sent;
        }

        var pins = t_pins ??= new MemoryHandle[MaxSendVectors];
        var vectors = stackalloc LinuxNative.IoVector[MaxSendVectors];
        int count = 0;
        foreach (var segment in buffer)
        {
            if (segment.IsEmpty)
            {
                continue;
            }

            pins[count] = segment.Pin();
            vectors[count].Base = (byte*)pins[count].Pointer;
            vectors[count].Length = (nuint)segment.Length;
            if (++count == MaxSendVectors)
            {
                break;
            }
        }

        var message = new LinuxNative.MessageHeader { Vectors = vectors, VectorCount = (nuint)count };
        sent = LinuxNative.SendMsg(fd, &message, LinuxNative.MsgNoSignal);
        errno = sent < 0 ? Marshal.GetLastPInvokeError() : 0;
        for (int i = 0; i < count; i++)
        {
            pins[i].Dispose();
        }

        return sent;
    }
}
