using System.Buffers;
using FastGate.Protocols.Http1;

namespace FastGate.Protocols.Tests.Http1;

public class Http1RequestParserTests
{
    public static TheoryData<string, string> ValidHeads => new()
    {
        {
            "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
            "GET / Http11\nHost=[example.com]\n"
        },
        {
            "GET /search?q=fast%20gate&lang=en HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
            + "Accept: text/html,application/xhtml+xml;q=0.9\r\nX-Tab:\ta\tb\t\r\nX-Ows:   spaced value   \r\nX-Empty:\r\nX-Blank: \t \r\n"
            + "X-Obs: caf\u00e9 \u00ff\r\nX-Weird-!#$%&'*+-.^_`|~: ok\r\n\r\n",
            "GET /search?q=fast%20gate&lang=en Http11\nHost=[www.example.com]\nUser-Agent=[Mozilla/5.0 (X11; Linux x86_64)]\n"
            + "Accept=[text/html,application/xhtml+xml;q=0.9]\nX-Tab=[a\tb]\nX-Ows=[spaced value]\nX-Empty=[]\nX-Blank=[]\n"
            + "X-Obs=[caf\u00e9 \u00ff]\nX-Weird-!#$%&'*+-.^_`|~=[ok]\n"
        },
        {
            // RFC 9112 section 2.2: one empty line before the request-line is ignored.
            "\r\nPOST /submit HTTP/1.0\r\nContent-Length: 5\r\n\r\n",
            "POST /submit Http10\nContent-Length=[5]\n"
        },
        {
            "OPTIONS * HTTP/1.1\r\n\r\n",
            "OPTIONS * Http11\n"
        },
        {
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            "CONNECT example.com:443 Http11\nHost=[example.com:443]\n"
        },
        {
            "GET http://a.example/x?y=[1]&z=\"q\" HTTP/1.1\r\nHost: a.example\r\n\r\n",
            "GET http://a.example/x?y=[1]&z=\"q\" Http11\nHost=[a.example]\n"
        },
        {
            "PATCH /c HTTP/1.1\r\nCookie: " + new string('c', 1000) + "\r\n\r\n",
            "PATCH /c Http11\nCookie=[" + new string('c', 1000) + "]\n"
        },
    };

    [Theory]
    [MemberData(nameof(ValidHeads))]
    public void Parses_valid_head_in_every_segment_shape(string head, string expected)
    {
        byte[] input = TestInput.Bytes(head);
        foreach (ReadOnlySequence<byte> sequence in TestInput.AllShapes(input))
        {
            Assert.Equal(expected, ParseAll(sequence, out long consumed));
            Assert.Equal(input.Length, consumed);
        }
    }

    [Theory]
    [MemberData(nameof(ValidHeads))]
    public void Parses_valid_head_cut_at_every_offset(string head, string expected)
    {
        byte[] input = TestInput.Bytes(head);
        for (int cut = 0; cut < input.Length; cut++)
        {
            var handler = new RecordingRequestHandler();
            bool lineDone = false;
            var first = new SequenceReader<byte>(TestInput.Single(input.AsMemory(0, cut)));
            Assert.False(Step(ref handler, ref first, ref lineDone));
            if (!lineDone)
            {
                Assert.Equal(0, first.Consumed);
            }

            long consumed = first.Consumed;
            ReadOnlyMemory<byte> rest = input.AsMemory((int)consumed);
            var second = new SequenceReader<byte>(cut % 2 == 0 ? TestInput.Single(rest) : TestInput.OneByteSegments(rest));
            Assert.True(Step(ref handler, ref second, ref lineDone));
            Assert.Equal(rest.Length, second.Consumed);
            Assert.Equal(expected, handler.Recording.ToString());
            Assert.Equal(1, handler.Recording.StartLines);
        }
    }

    [Fact]
    public void Stops_after_the_head_and_leaves_the_body()
    {
        byte[] input = TestInput.Bytes("POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
        foreach (ReadOnlySequence<byte> sequence in TestInput.AllShapes(input))
        {
            ParseAll(sequence, out long consumed);
            Assert.Equal(input.Length - 5, consumed);
        }
    }

    [Fact]
    public void Request_line_alone_is_consumed_and_headers_wait_for_more()
    {
        var handler = new RecordingRequestHandler();
        var reader = new SequenceReader<byte>(TestInput.Single(TestInput.Bytes("GET /a HTTP/1.1\r\nHost: x\r\nAcc")));
        Assert.True(Http1RequestParser.TryParseRequestLine(ref handler, ref reader));
        Assert.Equal(17, reader.Consumed);
        Assert.False(Http1RequestParser.TryParseHeaders(ref handler, ref reader));
        Assert.Equal(26, reader.Consumed);
        Assert.Equal("GET /a Http11\nHost=[x]\n", handler.Recording.ToString());
    }

    public static TheoryData<string, string> Rejected => new()
    {
        // Line endings (RFC 9112 section 2.2).
        { "GET / HTTP/1.1\n", "BareLineFeed" },
        { "\n", "BareLineFeed" },
        { "GET / HTTP/1.1\r\nHost: a\n\r\n", "BareLineFeed" },
        { "GET / HTTP/1.1\r\nHost: a\r\n\n", "BareLineFeed" },
        { "GET / HTTP/1.1\rX\r\n\r\n", "BareCarriageReturn" },
        { "GET / HTTP/1.1\rX", "BareCarriageReturn" },
        { "GET /a\rb HTTP/1.1\r\n\r\n", "BareCarriageReturn" },
        { "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "BareCarriageReturn" },
        { "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", "BareCarriageReturn" },
        { "GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n", "BareCarriageReturn" },
        { "GET / HTTP/1.1\r\nHost: a\rb", "BareCarriageReturn" },
        // Method (RFC 9110 section 9.1: a token).
        { "G(T / HTTP/1.1\r\n\r\n", "InvalidMethod" },
        { "GET\t/ HTTP/1.1\r\n\r\n", "InvalidMethod" },
        { "G\u00c9T / HTTP/1.1\r\n\r\n", "InvalidMethod" },
        // Structure: exactly one SP between three parts.
        { " GET / HTTP/1.1\r\n\r\n", "InvalidRequestLine" },
        { "GET  / HTTP/1.1\r\n\r\n", "InvalidRequestLine" },
        { "GET /  HTTP/1.1\r\n\r\n", "InvalidRequestLine" },
        { "GET /\r\n\r\n", "InvalidRequestLine" },
        { "GET\r\n\r\n", "InvalidRequestLine" },
        { "\r\n\r\nGET / HTTP/1.1\r\n\r\n", "InvalidRequestLine" },
        // Target: visible ASCII only.
        { "GET /a\u007f HTTP/1.1\r\n\r\n", "InvalidTarget" },
        { "GET /\u0000 HTTP/1.1\r\n\r\n", "InvalidTarget" },
        { "GET /caf\u00e9 HTTP/1.1\r\n\r\n", "InvalidTarget" },
        { "GET /a\tb HTTP/1.1\r\n\r\n", "InvalidTarget" },
        // Version (RFC 9112 section 2.3).
        { "GET / HTTP/2.0\r\n\r\n", "UnsupportedVersion" },
        { "GET / HTTP/1.2\r\n\r\n", "UnsupportedVersion" },
        { "GET / HTTP/0.9\r\n\r\n", "UnsupportedVersion" },
        { "GET / http/1.1\r\n\r\n", "InvalidVersion" },
        { "GET / HTTP/1.1 \r\n\r\n", "InvalidVersion" },
        { "GET / HTTP/11\r\n\r\n", "InvalidVersion" },
        { "GET / HTTP/1.10\r\n\r\n", "InvalidVersion" },
        { "GET / HTTP/a.b\r\n\r\n", "InvalidVersion" },
        { "GET / HTTP/1\r\n\r\n", "InvalidVersion" },
        // Field lines (RFC 9112 section 5, RFC 9110 section 5.5).
        { "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "WhitespaceBeforeColon" },
        { "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", "WhitespaceBeforeColon" },
        { "GET / HTTP/1.1\r\n Host: a\r\n\r\n", "ObsoleteLineFolding" },
        { "GET / HTTP/1.1\r\nHost: a\r\n continued\r\n\r\n", "ObsoleteLineFolding" },
        { "GET / HTTP/1.1\r\nHost: a\r\n\tcontinued\r\n\r\n", "ObsoleteLineFolding" },
        { "GET / HTTP/1.1\r\n: a\r\n\r\n", "InvalidHeaderName" },
        { "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", "InvalidHeaderName" },
        { "GET / HTTP/1.1\r\nHost a\r\n\r\n", "InvalidHeaderName" },
        { "GET / HTTP/1.1\r\nHost\r\n\r\n", "InvalidHeaderName" },
        { "GET / HTTP/1.1\r\nH\u00e9: a\r\n\r\n", "InvalidHeaderName" },
        { "GET / HTTP/1.1\r\nX(y): a\r\n\r\n", "InvalidHeaderName" },
        { "GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n", "InvalidHeaderValue" },
        { "GET / HTTP/1.1\r\nX: a\u007f\r\n\r\n", "InvalidHeaderValue" },
        { "GET / HTTP/1.1\r\nX: \u0001\r\n\r\n", "InvalidHeaderValue" },
        { "GET / HTTP/1.1\r\nX: a\u000bb\r\n\r\n", "InvalidHeaderValue" },
        { "GET / HTTP/1.1\r\nX: a\u001bb\r\n\r\n", "InvalidHeaderValue" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Rejects_with_exact_error_in_every_segment_shape(string head, string error)
    {
        // The error travels as its name: xunit theory parameters must be public types.
        foreach (ReadOnlySequence<byte> sequence in TestInput.AllShapes(TestInput.Bytes(head)))
        {
            var exception = Assert.Throws<Http1ParseException>(() => ParseAll(sequence, out _));
            Assert.Equal(Enum.Parse<Http1ParseError>(error), exception.Error);
        }
    }

    [Fact]
    public void Rejects_a_request_line_longer_than_the_line_bound()
    {
        byte[] complete = TestInput.Bytes("GET /" + new string('a', Http1FieldParser.MaxLineLength) + " HTTP/1.1\r\n\r\n");
        byte[] incomplete = TestInput.Bytes("GET /" + new string('a', Http1FieldParser.MaxLineLength));
        foreach (byte[] input in new[] { complete, incomplete })
        {
            foreach (ReadOnlySequence<byte> sequence in new[] { TestInput.Single(input), TestInput.Split(input, 3, 100) })
            {
                Assert.Equal(Http1ParseError.LineTooLong, Assert.Throws<Http1ParseException>(() => ParseAll(sequence, out _)).Error);
            }
        }
    }

    [Fact]
    public void Rejects_a_field_line_longer_than_the_line_bound()
    {
        byte[] input = TestInput.Bytes("GET / HTTP/1.1\r\nX: " + new string('a', Http1FieldParser.MaxLineLength) + "\r\n\r\n");
        foreach (ReadOnlySequence<byte> sequence in new[] { TestInput.Single(input), TestInput.Split(input, 20, 30) })
        {
            Assert.Equal(Http1ParseError.LineTooLong, Assert.Throws<Http1ParseException>(() => ParseAll(sequence, out _)).Error);
        }
    }

    [Fact]
    public void Accepts_a_long_line_within_the_bound_across_segments()
    {
        string value = new('v', 40_000);
        byte[] input = TestInput.Bytes("GET / HTTP/1.1\r\nX: " + value + "\r\n\r\n");
        Assert.Equal($"GET / Http11\nX=[{value}]\n", ParseAll(TestInput.Split(input, 20, 30_000), out _));
    }

    private static string ParseAll(ReadOnlySequence<byte> sequence, out long consumed)
    {
        var handler = new RecordingRequestHandler();
        bool lineDone = false;
        var reader = new SequenceReader<byte>(sequence);
        Assert.True(Step(ref handler, ref reader, ref lineDone));
        consumed = reader.Consumed;
        return handler.Recording.ToString();
    }

    private static bool Step(ref RecordingRequestHandler handler, ref SequenceReader<byte> reader, ref bool lineDone)
    {
        if (!lineDone)
        {
            if (!Http1RequestParser.TryParseRequestLine(ref handler, ref reader))
            {
                return false;
            }

            lineDone = true;
        }

        return Http1RequestParser.TryParseHeaders(ref handler, ref reader);
    }
}
