using System.Text;
using FastGate.Protocols.Http2;

namespace FastGate.Protocols.Tests.Http2;

public class Http2RequestFieldValidatorTests
{
    private static Http2FieldKind Check(ref Http2RequestFieldValidator validator, string name, string value) =>
        validator.Check(Encoding.Latin1.GetBytes(name), Encoding.Latin1.GetBytes(value), out _);

    private static Http2RequestFieldValidator Started(bool trailers = false)
    {
        var validator = default(Http2RequestFieldValidator);
        validator.Begin(trailers);
        return validator;
    }

    [Fact]
    public void A_complete_request_is_valid()
    {
        var validator = Started();
        Assert.Equal(Http2FieldKind.Pseudo, Check(ref validator, ":method", "GET"));
        Assert.Equal(Http2FieldKind.Pseudo, Check(ref validator, ":scheme", "https"));
        Assert.Equal(Http2FieldKind.Pseudo, Check(ref validator, ":authority", "example.com"));
        Assert.Equal(Http2FieldKind.Pseudo, Check(ref validator, ":path", "/"));
        Assert.Equal(Http2FieldKind.Regular, Check(ref validator, "accept", "*/*"));
        Assert.Equal(Http2FieldKind.Regular, Check(ref validator, "te", "trailers"));
        Assert.True(validator.Complete(isConnect: false));
    }

    [Theory]
    [InlineData(":method", (byte)Http2PseudoHeader.Method)]
    [InlineData(":scheme", (byte)Http2PseudoHeader.Scheme)]
    [InlineData(":authority", (byte)Http2PseudoHeader.Authority)]
    [InlineData(":path", (byte)Http2PseudoHeader.Path)]
    [InlineData(":status", (byte)Http2PseudoHeader.None)]
    [InlineData(":protocol", (byte)Http2PseudoHeader.None)]
    [InlineData(":Method", (byte)Http2PseudoHeader.None)]
    public void Classifies_request_pseudo_headers(string name, byte expected) =>
        Assert.Equal((Http2PseudoHeader)expected, Http2RequestFieldValidator.Classify(Encoding.ASCII.GetBytes(name)));

    // RFC 9113 section 8.2.1: names are lowercase tokens; values have no NUL/CR/LF and no outer whitespace.
    [Theory]
    [InlineData("Accept", "x")]
    [InlineData("x y", "x")]
    [InlineData("x:y", "x")]
    [InlineData("caf\u00e9", "x")]
    [InlineData("x-del\u007f", "x")]
    [InlineData("", "x")]
    [InlineData("x-a", "a\0b")]
    [InlineData("x-a", "a\rb")]
    [InlineData("x-a", "a\nb")]
    [InlineData("x-a", " a")]
    [InlineData("x-a", "a\t")]
    // Section 8.2.2: connection-specific fields.
    [InlineData("connection", "close")]
    [InlineData("keep-alive", "timeout=5")]
    [InlineData("proxy-connection", "keep-alive")]
    [InlineData("transfer-encoding", "chunked")]
    [InlineData("upgrade", "h2c")]
    [InlineData("te", "gzip")]
    [InlineData("te", "trailers, gzip")]
    public void Malformed_regular_fields(string name, string value)
    {
        var validator = Started();
        Assert.Equal(Http2FieldKind.Malformed, Check(ref validator, name, value));
    }

    [Fact]
    public void Values_may_be_empty_or_hold_inner_whitespace()
    {
        var validator = Started();
        Assert.Equal(Http2FieldKind.Regular, Check(ref validator, "x-empty", ""));
        Assert.Equal(Http2FieldKind.Regular, Check(ref validator, "x-inner", "a \t b"));
    }

    // Section 8.3: pseudo-headers first, each once, none unknown, :path not empty.
    [Fact]
    public void Pseudo_header_after_a_regular_field_is_malformed()
    {
        var validator = Started();
        Check(ref validator, ":method", "GET");
        Check(ref validator, "accept", "*/*");
        Assert.Equal(Http2FieldKind.Malformed, Check(ref validator, ":path", "/"));
    }

    [Fact]
    public void Repeated_pseudo_header_is_malformed()
    {
        var validator = Started();
        Check(ref validator, ":path", "/");
        Assert.Equal(Http2FieldKind.Malformed, Check(ref validator, ":path", "/"));
    }

    [Fact]
    public void Empty_path_is_malformed()
    {
        var validator = Started();
        Assert.Equal(Http2FieldKind.Malformed, Check(ref validator, ":path", ""));
    }

    [Theory]
    [InlineData(":status")]
    [InlineData(":protocol")]
    [InlineData(":foo")]
    public void Unknown_or_response_pseudo_header_is_malformed(string name)
    {
        var validator = Started();
        Assert.Equal(Http2FieldKind.Malformed, Check(ref validator, name, "x"));
    }

    [Fact]
    public void Trailers_carry_no_pseudo_header()
    {
        var validator = Started(trailers: true);
        Assert.Equal(Http2FieldKind.Regular, Check(ref validator, "x-checksum", "1"));
        validator = Started(trailers: true);
        Assert.Equal(Http2FieldKind.Malformed, Check(ref validator, ":path", "/"));
        Assert.True(validator.Complete(isConnect: false));
    }

    [Theory]
    [InlineData(":scheme,:path")]
    [InlineData(":method,:path")]
    [InlineData(":method,:scheme")]
    [InlineData("")]
    public void Missing_mandatory_pseudo_headers_fail_completion(string present)
    {
        var validator = Started();
        foreach (var name in present.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            Check(ref validator, name, name == ":path" ? "/" : "x");
        }

        Assert.False(validator.Complete(isConnect: false));
    }

    // Section 8.5: CONNECT has :method and :authority, and neither :scheme nor :path.
    [Fact]
    public void Connect_needs_authority_and_no_scheme_or_path()
    {
        var validator = Started();
        Check(ref validator, ":method", "CONNECT");
        Check(ref validator, ":authority", "example.com:443");
        Assert.True(validator.Complete(isConnect: true));

        validator = Started();
        Check(ref validator, ":method", "CONNECT");
        Check(ref validator, ":authority", "example.com:443");
        Check(ref validator, ":path", "/");
        Assert.False(validator.Complete(isConnect: true));
    }
}
