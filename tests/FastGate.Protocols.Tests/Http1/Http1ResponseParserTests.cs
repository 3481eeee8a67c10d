using System.Buffers;
using FastGate.Protocols.Http1;

namespace FastGate.Protocols.Tests.Http1;

public class Http1ResponseParserTests
{
    public static TheoryData<string, string> ValidHeads => new()
    {
        {
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n",
            "Http11 200 [OK]\nContent-Type=[text/plain]\nContent-Length=[5]\n"
        },
        { "HTTP/1.0 404 Not Found\r\n\r\n", "Http10 404 [Not Found]\n" },
        // RFC 9112 section 4: a recipient should accept a missing reason-phrase, with or without its SP.
        { "HTTP/1.1 204\r\n\r\n", "Http11 204 []\n" },
        { "HTTP/1.1 200 \r\n\r\n", "Http11 200 []\n" },
        { "HTTP/1.1 599 Wei\trd  \u00e9\r\nX:y\r\n\r\n", "Http11 599 [Wei\trd  \u00e9]\nX=[y]\n" },
        { "HTTP/1.1 100 Continue\r\n\r\n", "Http11 100 [Continue]\n" },
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
            var handler = new RecordingResponseHandler();
            bool lineDone = false;
            var first = new SequenceReader<byte>(TestInput.Single(input.AsMemory(0, cut)));
            Assert.False(Step(ref handler, ref first, ref lineDone));
            if (!lineDone)
            {
                Assert.Equal(0, first.Consumed);
            }

            ReadOnlyMemory<byte> rest = input.AsMemory((int)first.Consumed);
            var second = new SequenceReader<byte>(cut % 2 == 0 ? TestInput.Single(rest) : TestInput.OneByteSegments(rest));
            Assert.True(Step(ref handler, ref second, ref lineDone));
            Assert.Equal(rest.Length, second.Consumed);
            Assert.Equal(expected, handler.Recording.ToString());
        }
    }

    public static TheoryData<string, string> Rejected => new()
    {
        { "HTTP/1.1 20 OK\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1 2000 OK\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1 200OK\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1 2x0 OK\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1 099 Low\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1 600 High\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1  200 OK\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1\t200 OK\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1 200 O\u0000K\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/1.1 200 O\u007fK\r\n\r\n", "InvalidStatusLine" },
        { "HTTP/2.0 200 OK\r\n\r\n", "UnsupportedVersion" },
        { "HTTP/2 200 OK\r\n\r\n", "InvalidVersion" },
        { "HTTX/1.1 200 OK\r\n\r\n", "InvalidVersion" },
        { "http/1.1 200 OK\r\n\r\n", "InvalidVersion" },
        { "\r\n", "InvalidStatusLine" },
        { "HTTP/1.1 200 OK\n\r\n", "BareLineFeed" },
        { "HTTP/1.1 200 O\rK\r\n\r\n", "BareCarriageReturn" },
        { "HTTP/1.1 200 O\rK", "BareCarriageReturn" },
        { "HTTP/1.1 200 OK\r\nServer : x\r\n\r\n", "WhitespaceBeforeColon" },
        { "HTTP/1.1 200 OK\r\nServer: x\r\n  y\r\n\r\n", "ObsoleteLineFolding" },
        { "HTTP/1.1 200 OK\r\nSer\u00e9ver: x\r\n\r\n", "InvalidHeaderName" },
        { "HTTP/1.1 200 OK\r\nServer: \u0000\r\n\r\n", "InvalidHeaderValue" },
        { "HTTP/1.1 200 OK\r\nServer: x\r\n\n", "BareLineFeed" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Rejects_with_exact_error_in_every_segment_shape(string head, string error)
    {
        foreach (ReadOnlySequence<byte> sequence in TestInput.AllShapes(TestInput.Bytes(head)))
        {
            var exception = Assert.Throws<Http1ParseException>(() => ParseAll(sequence, out _));
            Assert.Equal(Enum.Parse<Http1ParseError>(error), exception.Error);
        }
    }

    [Fact]
    public void Every_pre_encoded_status_line_parses_back_to_its_code()
    {
        Span<byte> scratch = stackalloc byte[Http1HeadWriter.FormattedStatusLineLength];
        for (int code = 100; code < 600; code++)
        {
            ReadOnlySpan<byte> line = Http1HeadWriter.StatusLine(code, scratch);
            byte[] head = [.. line, .. "\r\n"u8];
            var handler = new RecordingResponseHandler();
            var reader = new SequenceReader<byte>(TestInput.Single(head));
            Assert.True(Http1ResponseParser.TryParseStatusLine(ref handler, ref reader));
            Assert.StartsWith($"Http11 {code} [", handler.Recording.ToString(), StringComparison.Ordinal);
        }
    }

    private static string ParseAll(ReadOnlySequence<byte> sequence, out long consumed)
    {
        var handler = new RecordingResponseHandler();
        bool lineDone = false;
        var reader = new SequenceReader<byte>(sequence);
        Assert.True(Step(ref handler, ref reader, ref lineDone));
        consumed = reader.Consumed;
        return handler.Recording.ToString();
    }

    private static bool Step(ref RecordingResponseHandler handler, ref SequenceReader<byte> reader, ref bool lineDone)
    {
        if (!lineDone)
        {
            if (!Http1ResponseParser.TryParseStatusLine(ref handler, ref reader))
            {
                return false;
            }

            lineDone = true;
        }

        return Http1ResponseParser.TryParseHeaders(ref handler, ref reader);
    }
}
