using System.Buffers.Text;
using System.Text;
using FastGate.Gateway.Security;
using Xunit;

namespace FastGate.Gateway.Tests.Security;

/// <summary>The decoder's three stages (32 characters with AVX2, 16 with SSSE3, 4 by table) and its final 2 or 3
/// characters: lengths up to 200 put every stage boundary and every length mod 4 under test, and a destination
/// of exactly the decoded size makes the vector stages give way to the table where a full store would not fit.</summary>
public sealed class Base64UrlStrictTests
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>Encoded lengths across every stage boundary, with each remainder 0, 2 and 3.</summary>
    public static TheoryData<int> StageLengths => [2, 3, 4, 14, 15, 16, 18, 19, 20, 31, 32, 34, 35, 36, 43, 47, 48, 50, 51, 63, 64, 66, 67, 80, 96, 99, 100];

    [Fact]
    public void Decodes_every_length_to_the_exact_bytes_with_an_exact_and_a_roomy_destination()
    {
        var random = new Random(5);
        for (int size = 0; size <= 150; size++)
        {
            byte[] data = new byte[size];
            random.NextBytes(data);
            byte[] encoded = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(data));

            byte[] exact = new byte[size];
            Assert.True(Base64UrlStrict.TryDecode(encoded, exact, out int written), $"size {size}");
            Assert.Equal(size, written);
            Assert.Equal(data, exact);

            byte[] roomy = new byte[size + 64];
            Assert.True(Base64UrlStrict.TryDecode(encoded, roomy, out written));
            Assert.Equal(size, written);
            Assert.Equal(data, roomy[..size]);
        }
    }

    [Fact]
    public void Decodes_every_character_of_the_alphabet_to_its_value_in_every_stage()
    {
        // The 64 characters in order are the sextets 0..63: 48 bytes of known value, decoded from each rotation so
        // every character passes through every lane of the vector stages.
        for (int rotation = 0; rotation < 64; rotation++)
        {
            string text = Alphabet[rotation..] + Alphabet[..rotation];
            byte[] expected = Convert.FromBase64String(text.Replace('-', '+').Replace('_', '/'));
            byte[] decoded = new byte[48];

            Assert.True(Base64UrlStrict.TryDecode(Encoding.ASCII.GetBytes(text), decoded, out int written));
            Assert.Equal(48, written);
            Assert.Equal(expected, decoded);
        }
    }

    [Theory]
    [MemberData(nameof(StageLengths))]
    public void Rejects_every_byte_outside_the_alphabet_at_every_position(int length)
    {
        byte[] valid = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(new byte[length * 3 / 4]));
        Assert.Equal(length, valid.Length);
        byte[] destination = new byte[length + 64];
        byte[] input = new byte[length];
        for (int value = 0; value < 256; value++)
        {
            if (Alphabet.Contains((char)value, StringComparison.Ordinal))
            {
                continue;
            }

            for (int position = 0; position < length; position++)
            {
                valid.CopyTo(input, 0);
                input[position] = (byte)value;
                Assert.False(Base64UrlStrict.TryDecode(input, destination, out int written), $"0x{value:X2} at {position} of {length}");
                Assert.Equal(0, written);
            }
        }
    }

    [Fact]
    public void Rejects_every_length_of_4k_plus_1()
    {
        for (int length = 1; length <= 201; length += 4)
        {
            byte[] input = Encoding.ASCII.GetBytes(new string('A', length));
            Assert.False(Base64UrlStrict.TryDecode(input, new byte[length], out _), $"length {length}");
        }
    }

    [Theory]
    [MemberData(nameof(StageLengths))]
    public void Rejects_every_final_character_with_nonzero_unused_bits(int length)
    {
        int remainder = length % 4;
        if (remainder == 0)
        {
            return;
        }

        int unusedMask = remainder == 2 ? 0x0F : 0x03;
        string prefix = new('Q', length - 1);
        byte[] destination = new byte[length];
        for (int sextet = 0; sextet < 64; sextet++)
        {
            byte[] input = Encoding.ASCII.GetBytes(prefix + Alphabet[sextet]);
            bool canonical = (sextet & unusedMask) == 0;
            Assert.Equal(canonical, Base64UrlStrict.TryDecode(input, destination, out int written));
            Assert.Equal(canonical ? length * 3 / 4 : 0, written);
        }
    }

    [Theory]
    [InlineData("QQ==")]
    [InlineData("QUE=")]
    [InlineData("QQ=")]
    [InlineData("QUFB====")]
    [InlineData("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")]
    [InlineData("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==")]
    [InlineData("QU=BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")]
    public void Rejects_padding_anywhere(string input) =>
        Assert.False(Base64UrlStrict.TryDecode(Encoding.ASCII.GetBytes(input), new byte[64], out _));

    [Theory]
    [InlineData("QUFB QUFB")]
    [InlineData("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\nQUFB")]
    [InlineData("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU+B")]
    [InlineData("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU/B")]
    public void Rejects_whitespace_and_the_standard_alphabet(string input) =>
        Assert.False(Base64UrlStrict.TryDecode(Encoding.ASCII.GetBytes(input), new byte[64], out _));

    [Fact]
    public void Refuses_a_destination_shorter_than_the_decoded_length()
    {
        byte[] encoded = Encoding.ASCII.GetBytes(Base64Url.EncodeToString(new byte[40]));

        Assert.False(Base64UrlStrict.TryDecode(encoded, new byte[39], out int written));
        Assert.Equal(0, written);
        Assert.True(Base64UrlStrict.TryDecode(encoded, new byte[40], out written));
        Assert.Equal(40, written);
    }

    [Fact]
    public void Decodes_the_empty_input_to_nothing()
    {
        Assert.True(Base64UrlStrict.TryDecode([], [], out int written));
        Assert.Equal(0, written);
    }
}
