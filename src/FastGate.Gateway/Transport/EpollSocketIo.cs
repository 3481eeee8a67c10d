using System.Runtime.InteropServices;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The receive system call of the epoll loops' sockets (client and upstream alike), on
/// non-blocking fds: a negative result comes with its errno, EAGAIN meaning "wait for the next edge".
/// </summary>
internal static unsafe class EpollSocketIo
{
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
}
