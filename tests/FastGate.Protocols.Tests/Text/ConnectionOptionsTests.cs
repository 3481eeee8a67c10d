using System.Text;
using FastGate.Protocols.Text;

namespace FastGate.Protocols.Tests.Text;

public sealed class ConnectionOptionsTests
{
    [Theory]
    [InlineData("", (byte)(ConnectionOptions.None))]
    [InlineData("close", (byte)(ConnectionOptions.Close))]
    [InlineData("Keep-Alive", (byte)(ConnectionOptions.KeepAlive))]
    [InlineData("keep-alive, Upgrade", (byte)(ConnectionOptions.KeepAlive | ConnectionOptions.Upgrade))]
    [InlineData(" ,\tCLOSE\t, ,", (byte)(ConnectionOptions.Close))]
    [InlineData("keep-alive, X-Secret", (byte)(ConnectionOptions.KeepAlive | ConnectionOptions.OtherNames))]
    [InlineData("x-trace", (byte)(ConnectionOptions.OtherNames))]
    [InlineData("closed", (byte)(ConnectionOptions.OtherNames))]
    [InlineData("keep-alive2", (byte)(ConnectionOptions.OtherNames))]
    [InlineData("upgrade,close,keep-alive,te", (byte)(ConnectionOptions.Upgrade | ConnectionOptions.Close | ConnectionOptions.KeepAlive | ConnectionOptions.OtherNames))]
    public void Each_listed_token_is_classified_once(string value, byte expected) =>
        Assert.Equal(expected, (byte)ConnectionOptionsParser.Parse(Encoding.ASCII.GetBytes(value)));
}
