using System.Buffers;
using System.Buffers.Text;

namespace FastGate.Gateway.Security;

/// <summary>Base64url as JWS requires it (RFC 7515 section 2 and appendix C): the URL-safe alphabet, no padding,
/// no whitespace, and canonical final characters.</summary>
/// <remarks>The BCL decoder alone would accept '=' padding and final characters whose unused low bits are set;
/// both give one token several encodings, which breaks byte-keyed caches and lets a mutated token pass as the
/// original (RFC 4648 section 3.5 allows decoders to reject them; JWS encoders never produce them).</remarks>
internal static class Base64UrlStrict
{
    private static readonly SearchValues<byte> s_alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"u8);

    public static int MaxDecodedLength(int encodedLength) => Base64Url.GetMaxDecodedLength(encodedLength);

    public static bool TryDecode(ReadOnlySpan<byte> source, Span<byte> destination, out int written)
    {
        written = 0;
        int remainder = source.Length & 3;
        if (remainder == 1 || source.IndexOfAnyExcept(s_alphabet) >= 0)
        {
            return false;
        }

        // 2 final characters carry 8 bits of 12, 3 carry 16 of 18: the rest must be zero.
        if (remainder != 0)
        {
            int unusedMask = remainder == 2 ? 0x0F : 0x03;
            if ((SextetOf(source[^1]) & unusedMask) != 0)
            {
                return false;
            }
        }

        return Base64Url.DecodeFromUtf8(source, destination, out int consumed, out written) == OperationStatus.Done
            && consumed == source.Length;
    }

    private static int SextetOf(byte c) => c switch
    {
        >= (byte)'A' and <= (byte)'Z' => c - 'A',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
        (byte)'-' => 62,
        _ => 63,
    };
}
