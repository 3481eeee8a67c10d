using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastGate.Gateway.Transport;

/// <summary>
/// The Linux system calls the epoll transport makes itself (man 7 epoll, man 2 recv, man 2 sendmsg,
/// man 2 eventfd, man 2 getsockopt, man 2 accept4, man 2 shutdown). Constants are the generic Linux values, the same on x86-64 and arm64.
/// </summary>
internal static unsafe partial class LinuxNative
{
    public const int EpollCloexec = 0x80000;
    public const int EpollCtlAdd = 1;

    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;

    public const int EfdNonblock = 0x800;

    // fcntl(2) file status flags (x86-64 and arm64 values).
    public const int FGetFl = 3;
    public const int FSetFl = 4;
    public const int ONonblock = 0x800;
    public const int EfdCloexec = 0x80000;

    /// <summary>MSG_NOSIGNAL (man 2 send): a write to a peer that closed fails with EPIPE instead of raising SIGPIPE.</summary>
    public const int MsgNoSignal = 0x4000;

    /// <summary>accept4(2) flags: the accepted fd is non-blocking and closed on exec, set in the same call.</summary>
    public const int SockNonblock = 0x800;
    public const int SockCloexec = 0x80000;

    public const int ShutRdWr = 2;

    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int ENoMem = 12;
    public const int ENFile = 23;
    public const int EMFile = 24;
    public const int EPipe = 32;
    public const int EConnAborted = 103;
    public const int EConnReset = 104;
    public const int ENoBufs = 105;
    public const int ETimedOut = 110;

    public const int SolSocket = 1;
    public const int SoError = 4;

    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;

    public const ushort AfUnix = 1;
    public const ushort AfInet = 2;
    public const ushort AfInet6 = 10;

    /// <summary>
    /// struct epoll_event is packed on x86-64 (and 12 bytes on 32-bit x86): a 4-byte event mask, then
    /// the 8-byte data at offset 4. Every other ABI aligns the data to 8, making the struct 16 bytes.
    /// </summary>
    public static readonly bool EpollEventPacked =
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

    public static int EpollEventSize => EpollEventPacked ? 12 : 16;

    public static int EpollDataOffset => EpollEventPacked ? 4 : 8;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (man 2 sendmsg); the natural layout of these field types matches the C ABI.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, byte* epollEvent);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, MessageHeader* message, int flags);

    /// <summary>fcntl(2) with an int argument (the only form used here).</summary>
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, byte* address, uint* addressLength, int flags);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>Writes one epoll_event (mask, 64-bit data) in this ABI's layout into <paramref name="destination"/>.</summary>
    public static void WriteEvent(byte* destination, uint events, ulong data)
    {
        *(uint*)destination = events;
        Unsafe.WriteUnaligned(destination + EpollDataOffset, data);
    }

    public static uint ReadEventMask(byte* source) => *(uint*)source;

    public static ulong ReadEventData(byte* source) => Unsafe.ReadUnaligned<ulong>(source + EpollDataOffset);
}
