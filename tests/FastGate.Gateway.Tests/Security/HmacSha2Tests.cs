using System.Security.Cryptography;
using FastGate.Gateway.Security;

namespace FastGate.Gateway.Tests.Security;

/// <summary>HmacSha2 against the BCL's one-shot HMACs, on both paths, over random keys (shorter than, equal to
/// and longer than each block size) and every message length 0..300 plus lengths that cross the chunking.</summary>
public class HmacSha2Tests
{
    private static readonly int[] KeyLengths = [1, 20, 32, 48, 63, 64, 65, 100, 127, 128, 129, 200, 1000];

    [Fact]
    public void OpenSsl_is_available_on_this_linux_machine()
    {
        // The benchmark numbers assume the native path; a silent fallback here would be a regression.
        Assert.True(OpenSslSha2.IsAvailable);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(48)]
    [InlineData(64)]
    [InlineData(20)]
    public void MacEquals_is_false_for_any_flipped_bit_and_any_other_length(int length)
    {
        byte[] mac = new byte[length];
        new Random(length).NextBytes(mac);
        Assert.True(HmacSha2.MacEquals(mac, (byte[])mac.Clone()));
        Assert.False(HmacSha2.MacEquals(mac, mac.AsSpan(0, length - 1)));
        Assert.False(HmacSha2.MacEquals(mac, [.. mac, 0]));
        for (int bit = 0; bit < length * 8; bit++)
        {
            byte[] other = (byte[])mac.Clone();
            other[bit >> 3] ^= (byte)(1 << (bit & 7));
            Assert.False(HmacSha2.MacEquals(mac, other));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Matches_HMACSHA2_for_random_keys_and_every_short_length(bool native)
    {
        if (native && !OpenSslSha2.IsAvailable)
        {
            return;
        }

        var random = new Random(2104);
        byte[] message = new byte[300];
        random.NextBytes(message);
        foreach (int keyLength in KeyLengths)
        {
            byte[] key = new byte[keyLength];
            random.NextBytes(key);
            var hmac = new HmacSha2(key, native);
            Assert.Equal(native, hmac.IsNative);
            for (int length = 0; length <= message.Length; length++)
            {
                AssertSame(hmac, key, message.AsSpan(0, length));
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Matches_HMACSHA2_for_long_messages(bool native)
    {
        if (native && !OpenSslSha2.IsAvailable)
        {
            return;
        }

        var random = new Random(7518);
        byte[] message = new byte[3 * OpenSslSha2.MaxChunk + 77];
        random.NextBytes(message);
        foreach (int keyLength in KeyLengths)
        {
            byte[] key = new byte[keyLength];
            random.NextBytes(key);
            var hmac = new HmacSha2(key, native);
            foreach (int length in (int[])[511, 512, 1023, 1024, OpenSslSha2.MaxChunk - 1, OpenSslSha2.MaxChunk, OpenSslSha2.MaxChunk + 1, 2 * OpenSslSha2.MaxChunk, message.Length])
            {
                AssertSame(hmac, key, message.AsSpan(0, length));
            }
        }
    }

    [Fact]
    public void Rfc4231_test_case_2_short_key()
    {
        // RFC 4231 section 4.3: key "Jefe", data "what do ya want for nothing?".
        var hmac = new HmacSha2("Jefe"u8);
        Span<byte> mac = stackalloc byte[64];
        int length = hmac.Compute(256, "what do ya want for nothing?"u8, mac);
        Assert.Equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", Convert.ToHexStringLower(mac[..length]));
        length = hmac.Compute(384, "what do ya want for nothing?"u8, mac);
        Assert.Equal(
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
            Convert.ToHexStringLower(mac[..length]));
    }

    [Fact]
    public void Concurrent_use_of_one_key_gives_the_same_mac()
    {
        byte[] key = RandomNumberGenerator.GetBytes(64);
        byte[] message = RandomNumberGenerator.GetBytes(650);
        byte[] expected = HMACSHA256.HashData(key, message);
        var hmac = new HmacSha2(key);
        Parallel.For(0, 8, _ =>
        {
            Span<byte> mac = stackalloc byte[64];
            for (int i = 0; i < 2000; i++)
            {
                int length = hmac.Compute(256, message, mac);
                Assert.True(mac[..length].SequenceEqual(expected));
            }
        });
    }

    private static void AssertSame(HmacSha2 hmac, byte[] key, ReadOnlySpan<byte> message)
    {
        Span<byte> actual = stackalloc byte[64];
        int length = hmac.Compute(256, message, actual);
        Assert.Equal(Convert.ToHexString(HMACSHA256.HashData(key, message)), Convert.ToHexString(actual[..length]));
        length = hmac.Compute(384, message, actual);
        Assert.Equal(Convert.ToHexString(HMACSHA384.HashData(key, message)), Convert.ToHexString(actual[..length]));
        length = hmac.Compute(512, message, actual);
        Assert.Equal(Convert.ToHexString(HMACSHA512.HashData(key, message)), Convert.ToHexString(actual[..length]));
    }
}
