using System.Security.Cryptography;

namespace FastGate.Gateway.Observability;

/// <summary>
/// Request ids: 16 hex digits of a random per-process prefix and 16 of a global counter, so ids are
/// unique across restarts and instances without a random draw per request.
/// </summary>
internal static class RequestIds
{
    public const int Length = 32;

    private static readonly ulong Prefix = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    private static long s_counter;

    /// <summary>Writes a new id into <paramref name="destination"/> (at least 32 bytes); returns its length.</summary>
    public static int Write(Span<byte> destination)
    {
        ulong counter = (ulong)Interlocked.Increment(ref s_counter);
        WriteHex(Prefix, destination);
        WriteHex(counter, destination[16..]);
        return Length;
    }

    private static void WriteHex(ulong value, Span<byte> destination)
    {
        for (int i = 15; i >= 0; i--)
        {
            destination[i] = (byte)"0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }
}
