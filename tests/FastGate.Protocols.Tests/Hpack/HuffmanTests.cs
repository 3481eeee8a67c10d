using System.Text;
using FastGate.Protocols.Hpack;
using FsCheck.Xunit;

namespace FastGate.Protocols.Tests.Hpack;

public class HuffmanTests
{
    // RFC 7541 appendix C.4 and C.6.
    public static TheoryData<string, string> RfcStrings => new()
    {
        { "www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff" },
        { "no-cache", "a8eb 1064 9cbf" },
        { "custom-key", "25a8 49e9 5ba9 7d7f" },
        { "custom-value", "25a8 49e9 5bb8 e8b4 bf" },
        { "302", "6402" },
        { "307", "640e ff" },
        { "private", "aec3 771a 4b" },
        { "Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff" },
        { "https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3" },
        { "gzip", "9bd9 ab" },
        { "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07" },
    };

    [Theory]
    [MemberData(nameof(RfcStrings))]
    public void Encodes_the_rfc_examples(string text, string hex)
    {
        byte[] source = Encoding.ASCII.GetBytes(text);
        byte[] expected = Hex.Bytes(hex);
        Assert.Equal(expected.Length, Huffman.GetEncodedLength(source));
        var destination = new byte[expected.Length];
        Assert.Equal(expected.Length, Huffman.Encode(source, destination));
        Assert.Equal(Hex.Of(expected), Hex.Of(destination));
    }

    [Theory]
    [MemberData(nameof(RfcStrings))]
    public void Decodes_the_rfc_examples(string text, string hex)
    {
        var destination = new byte[text.Length];
        int length = Huffman.Decode(Hex.Bytes(hex), destination);
        Assert.Equal(text, Encoding.ASCII.GetString(destination, 0, length));
    }

    [Fact]
    public void Every_symbol_round_trips_alone_and_together()
    {
        var all = new byte[256];
        for (int i = 0; i < 256; i++)
        {
            all[i] = (byte)i;
            AssertRoundTrip([(byte)i]);
        }

        AssertRoundTrip(all);
    }

    [Fact]
    public void Empty_input_decodes_to_nothing()
        => Assert.Equal(0, Huffman.Decode([], new byte[1]));

    [Property(MaxTest = 500)]
    public void Random_bytes_round_trip(byte[] data) => AssertRoundTrip(data ?? []);

    [Theory]
    [InlineData("ffff ffff")] // EOS (30 ones) in the string, padded with ones
    [InlineData("ff ff ff fc")] // EOS then two padding bits
    [InlineData("1f ff")] // 'a' then 11 bits of padding: longer than 7 bits
    [InlineData("ff")] // 8 bits of padding alone
    [InlineData("18")] // 'a' then padding 000: not the most significant bits of EOS
    [InlineData("1e")] // 'a' then padding 110
    [InlineData("fe")] // a prefix of '!' (11111110|00) that is not all ones
    public void Rejects_eos_and_invalid_padding(string hex)
    {
        var error = Assert.Throws<HpackDecodingException>(() => Huffman.Decode(Hex.Bytes(hex), new byte[16]));
        Assert.Equal(HpackDecodingError.InvalidHuffman, error.Error);
    }

    [Theory]
    [InlineData("07", "0")] // '0' (00000) + 3 bits of padding
    [InlineData("f8", "&")] // an 8-bit code: no padding
    [InlineData("002e 7f", "00:")] // 5 + 5 + 7 bits + 7 bits of padding, the most allowed
    public void Accepts_padding_up_to_seven_bits(string hex, string expected)
    {
        var destination = new byte[8];
        int length = Huffman.Decode(Hex.Bytes(hex), destination);
        Assert.Equal(expected, Encoding.ASCII.GetString(destination, 0, length));
    }

    [Fact]
    public void Output_longer_than_the_destination_is_a_string_length_error()
    {
        var error = Assert.Throws<HpackDecodingException>(() => Huffman.Decode(Hex.Bytes("f1e3 c2e5 f23a 6ba0 ab90 f4ff"), new byte[14]));
        Assert.Equal(HpackDecodingError.StringTooLong, error.Error);
    }

    private static void AssertRoundTrip(byte[] data)
    {
        var encoded = new byte[Huffman.GetEncodedLength(data)];
        Assert.Equal(encoded.Length, Huffman.Encode(data, encoded));
        var decoded = new byte[data.Length];
        int length = Huffman.Decode(encoded, decoded);
        Assert.Equal(data, decoded.AsSpan(0, length).ToArray());
    }
}
