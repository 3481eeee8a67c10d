using System.Text;
using FastGate.Protocols.Text;

namespace FastGate.Protocols.Tests.Text;

public class Ascii8Tests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("007", 7L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Parses_valid_content_length(string text, long expected)
    {
        Assert.True(Ascii8.TryParseContentLength(Encoding.ASCII.GetBytes(text), out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1,1")]
    [InlineData("0x10")]
    [InlineData("1e3")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999")]
    public void Rejects_malformed_content_length(string text)
    {
        Assert.False(Ascii8.TryParseContentLength(Encoding.ASCII.GetBytes(text), out long value));
        Assert.Equal(0, value);
    }

    [Theory]
    [InlineData("keep-alive", "keep-alive", true)]
    [InlineData("Keep-Alive", "keep-alive", true)]
    [InlineData("close, Upgrade", "upgrade", true)]
    [InlineData("close ,\tupgrade\t", "UPGRADE", true)]
    [InlineData(",, x ,,", "x", true)]
    [InlineData("keep-alive-ish", "keep-alive", false)]
    [InlineData("upgrade2, close", "upgrade", false)]
    [InlineData("", "close", false)]
    [InlineData("clo se", "close", false)]
    public void Finds_tokens_in_comma_separated_lists(string list, string token, bool expected)
        => Assert.Equal(expected, Ascii8.TokenListContains(Encoding.ASCII.GetBytes(list), Encoding.ASCII.GetBytes(token)));

    [Theory]
    [InlineData("Host", "hOST", true)]
    [InlineData("Host", "Hosts", false)]
    [InlineData("a-b", "A-B", true)]
    [InlineData("a_b", "a-b", false)]
    public void Compares_ignoring_ascii_case(string left, string right, bool expected)
        => Assert.Equal(expected, Ascii8.EqualsIgnoreCase(Encoding.ASCII.GetBytes(left), Encoding.ASCII.GetBytes(right)));
}
