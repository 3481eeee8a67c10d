using System.Buffers.Text;
using System.Net;
using FastGate.Gateway.Security;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace FastGate.Gateway.Tests.Security;

public class SecurityProperties
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    [Property(MaxTest = 500)]
    public bool Strict_base64url_decodes_every_canonical_encoding(byte[] data)
    {
        byte[] encoded = System.Text.Encoding.ASCII.GetBytes(Base64Url.EncodeToString(data));
        byte[] decoded = new byte[data.Length + 3];

        return Base64UrlStrict.TryDecode(encoded, decoded, out int written) && decoded.AsSpan(0, written).SequenceEqual(data);
    }

    [Property(MaxTest = 500)]
    public bool Strict_base64url_rejects_every_other_spelling_of_the_same_bytes(NonEmptyArray<byte> input, PositiveInt bits)
    {
        byte[] data = input.Get;
        string canonical = Base64Url.EncodeToString(data);
        int remainder = canonical.Length % 4;
        if (remainder == 0)
        {
            // Whole quanta have no unused bits; padding is the other spelling.
            return !Base64UrlStrict.TryDecode(System.Text.Encoding.ASCII.GetBytes(canonical + "="), new byte[data.Length + 3], out _);
        }

        int unusedMask = remainder == 2 ? 0x0F : 0x03;
        int flip = (bits.Get % unusedMask) + 1;
        char last = Alphabet[Alphabet.IndexOf(canonical[^1], StringComparison.Ordinal) ^ flip];
        byte[] variant = System.Text.Encoding.ASCII.GetBytes(canonical[..^1] + last);
        byte[] padded = System.Text.Encoding.ASCII.GetBytes(canonical + new string('=', 4 - remainder));

        return !Base64UrlStrict.TryDecode(variant, new byte[data.Length + 3], out _)
            && !Base64UrlStrict.TryDecode(padded, new byte[data.Length + 3], out _);
    }

    /// <summary>The BCL decoder under Base64UrlStrict skips whitespace and decodes the standard alphabet's
    /// neighbours differently; one inserted or replaced character anywhere, in the vectorised middle or the
    /// scalar tail, must be refused.</summary>
    [Property(MaxTest = 1000)]
    public bool Strict_base64url_rejects_whitespace_and_foreign_characters_anywhere(NonEmptyArray<byte> input, PositiveInt at, PositiveInt pick)
    {
        const string Foreign = " \t\r\n=+/.";
        string canonical = Base64Url.EncodeToString(input.Get);
        char c = Foreign[pick.Get % Foreign.Length];
        int position = at.Get % (canonical.Length + 1);
        string inserted = canonical.Insert(position, c.ToString());
        string replaced = position < canonical.Length ? canonical[..position] + c + canonical[(position + 1)..] : inserted;
        byte[] output = new byte[input.Get.Length + 8];

        return !Base64UrlStrict.TryDecode(System.Text.Encoding.ASCII.GetBytes(inserted), output, out _)
            && !Base64UrlStrict.TryDecode(System.Text.Encoding.ASCII.GetBytes(replaced), output, out _);
    }

    private static readonly Gen<(byte[] Network, int Prefix)> V4Block =
        from bytes in Gen.ArrayOf(Gen.Choose(0, 3).Select(b => (byte)(b * 64 + 10)), 4)
        from prefix in Gen.Choose(0, 32)
        select (Mask(bytes, prefix), prefix);

    private static readonly Gen<byte[]> V4Address = Gen.ArrayOf(Gen.Choose(0, 3).Select(b => (byte)(b * 64 + 10)), 4);

    private static readonly Gen<((byte[] Network, int Prefix)[] Allow, (byte[] Network, int Prefix)[] Deny, byte[] Address, bool Mapped)> FilterCase =
        from allow in Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(V4Block, n))
        from deny in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(V4Block, n))
        from address in V4Address
        from mapped in Gen.Elements(false, true)
        select (allow, deny, address, mapped);

    [Property(MaxTest = 300)]
    public Property Ip_filter_agrees_with_IPNetwork_on_every_address() =>
        Prop.ForAll(FilterCase.ToArbitrary(), c =>
        {
            string[] allowText = [.. c.Allow.Select(b => $"{new IPAddress(b.Network)}/{b.Prefix}")];
            string[] denyText = [.. c.Deny.Select(b => $"{new IPAddress(b.Network)}/{b.Prefix}")];
            Assert.True(IpFilter.TryCreate(allowText, denyText, out IpFilter? filter, out _));
            var ip = new IPAddress(c.Address);
            bool denied = denyText.Any(d => IPNetwork.Parse(d).Contains(ip));
            bool allowed = allowText.Length == 0 || allowText.Any(a => IPNetwork.Parse(a).Contains(ip));
            byte[] bytes = c.Mapped ? ip.MapToIPv6().GetAddressBytes() : c.Address;

            return filter!.IsAllowed(bytes) == (!denied && allowed);
        });

    private static byte[] Mask(byte[] bytes, int prefix)
    {
        uint value = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
        uint mask = prefix == 0 ? 0 : uint.MaxValue << (32 - prefix);
        byte[] result = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(result, value & mask);
        return result;
    }
}
