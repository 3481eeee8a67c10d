using System.Buffers;
using FastGate.Protocols.Http1;

namespace FastGate.Protocols.Buffers;

/// <summary>
/// Buffers and field tables for parsed message heads. Heads start in a small buffer and grow only when
/// a head needs it, so a typical 500-byte head holds 4 KiB and an idle connection holds nothing.
/// </summary>
/// <remarks>
/// NOTE: ArrayPool.Shared keeps a few arrays per size per core; with hundreds of requests in flight
/// it runs dry and every rent became a fresh 32-64 KiB array (measured: 32 KB allocated per request
/// at 64 connections). The shared pools here keep up to <see cref="MaxRetainedPerSize"/> arrays of
/// each size, behind a lock per size. A thread that rents and returns a head per request (an epoll
/// loop thread: <see cref="KeepSomeOnThisThread"/>) keeps a few initial-size buffers and tables of its
/// own in front of them, so the usual head costs no lock; other threads (the sockets transport's
/// requests hop between thread-pool threads) use the shared pools only and strand nothing.
/// </remarks>
internal static class HeadBufferPool
{
    public const int InitialSize = 4 * 1024;

    /// <summary>Field lines a table starts with; a head with more takes a larger one.</summary>
    public const int InitialFieldCount = 32;

    private const int MaxRetainedPerSize = 4096;

    // Per thread that opted in: as many heads as a busy loop has requests in flight (an h2c load of 16
    // connections with 10 streams each holds 160 request heads at once); 256 buffers are 1 MiB.
    private const int ThreadCapacity = 256;

    private static readonly ArrayPool<byte> s_bytes = ArrayPool<byte>.Create(maxArrayLength: 1024 * 1024, maxArraysPerBucket: MaxRetainedPerSize);
    private static readonly ArrayPool<Http1Field> s_fields = ArrayPool<Http1Field>.Create(maxArrayLength: 1024, maxArraysPerBucket: MaxRetainedPerSize);

    [ThreadStatic]
    private static ThreadCache? t_cache;

    /// <summary>This thread keeps a few initial-size buffers and tables for itself from now on.</summary>
    public static void KeepSomeOnThisThread() => t_cache ??= new ThreadCache();

    /// <summary>A buffer of at least <paramref name="size"/> bytes.</summary>
    public static byte[] Rent(int size) =>
        size == InitialSize && t_cache is { } cache && cache.Bytes.TryPop(out var kept) ? kept : s_bytes.Rent(size);

    public static void Return(byte[] buffer)
    {
        if (buffer.Length == InitialSize && t_cache is { } cache && cache.Bytes.TryPush(buffer))
        {
            return;
        }

        s_bytes.Return(buffer);
    }

    /// <summary>A field table of at least <paramref name="count"/> entries.</summary>
    public static Http1Field[] RentFields(int count) =>
        count == InitialFieldCount && t_cache is { } cache && cache.Fields.TryPop(out var kept) ? kept : s_fields.Rent(count);

    public static void ReturnFields(Http1Field[] fields)
    {
        if (fields.Length == InitialFieldCount && t_cache is { } cache && cache.Fields.TryPush(fields))
        {
            return;
        }

        s_fields.Return(fields);
    }

    private sealed class ThreadCache
    {
        public BoundedStack<byte[]> Bytes = new(ThreadCapacity);
        public BoundedStack<Http1Field[]> Fields = new(ThreadCapacity);
    }
}
