using FastGate.Protocols.Text;

namespace FastGate.Protocols.Tests.Text;

public class KnownHeadersTests
{
    public static TheoryData<string, string> Names => new()
    {
        { "Host", "Host" }, { "Content-Length", "ContentLength" }, { "Transfer-Encoding", "TransferEncoding" },
        { "Connection", "Connection" }, { "Keep-Alive", "KeepAlive" }, { "Proxy-Connection", "ProxyConnection" },
        { "TE", "TE" }, { "Trailer", "Trailer" }, { "Upgrade", "Upgrade" }, { "Expect", "Expect" },
        { "X-Forwarded-For", "XForwardedFor" }, { "X-Forwarded-Proto", "XForwardedProto" },
        { "X-Forwarded-Host", "XForwardedHost" }, { "X-Request-Id", "XRequestId" }, { "traceparent", "Traceparent" },
        { "Content-Type", "ContentType" }, { "Date", "Date" }, { "Server", "Server" }, { "Via", "Via" },
        { "Proxy-Authorization", "ProxyAuthorization" }, { "Proxy-Authenticate", "ProxyAuthenticate" },
        { "Authorization", "Authorization" }, { "Cookie", "Cookie" },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Classifies_every_known_name_in_any_case(string name, string member)
    {
        var expected = Enum.Parse<KnownHeader>(member);
        Assert.Equal(expected, KnownHeaders.Classify(TestBytes(name)));
        Assert.Equal(expected, KnownHeaders.Classify(TestBytes(name.ToUpperInvariant())));
        Assert.Equal(expected, KnownHeaders.Classify(TestBytes(name.ToLowerInvariant())));
    }

    [Fact]
    public void Covers_every_enum_member()
        => Assert.Equal(Enum.GetValues<KnownHeader>().Length - 1, Names.Count);

    [Theory]
    [InlineData("")]
    [InlineData("Hos")]
    [InlineData("Hosts")]
    [InlineData("Host-")]
    [InlineData("Gost")]
    [InlineData("Dato")]
    [InlineData("Keep_Alive")]
    [InlineData("Connectio\u00ee")]
    [InlineData("X-Forwarded-Fox")]
    [InlineData("Content_Length")]
    [InlineData("Accept")]
    [InlineData("TF")]
    public void Leaves_other_names_unknown(string name)
        => Assert.Equal(KnownHeader.Unknown, KnownHeaders.Classify(TestBytes(name)));

    [Fact]
    public void Hop_by_hop_are_exactly_the_connection_specific_fields()
    {
        KnownHeader[] hopByHop = [KnownHeader.Connection, KnownHeader.KeepAlive, KnownHeader.ProxyConnection,
            KnownHeader.TE, KnownHeader.Trailer, KnownHeader.TransferEncoding, KnownHeader.Upgrade];
        foreach (KnownHeader header in Enum.GetValues<KnownHeader>())
        {
            Assert.Equal(hopByHop.Contains(header), KnownHeaders.IsHopByHop(header));
        }
    }

    private static byte[] TestBytes(string text) => System.Text.Encoding.Latin1.GetBytes(text);
}
