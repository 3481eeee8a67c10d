using System.Buffers;
using FastGate.Protocols.Http1;

namespace FastGate.Protocols.Tests.Http1;

public class Http1ChunkedDecoderTests
{
    public static TheoryData<string, string> ValidBodies => new()
    {
        { "5\r\nhello\r\n0\r\n\r\n", "hello" },
        { "0\r\n\r\n", "" },
        { "5;ext=1;flag\r\nhello\r\n6 ; q=\"a \\\"b\\\\\" ;\tr = t\r\n world\r\n0\r\nX-Trailer: v\r\nOther:w\r\n\r\n", "hello world" },
        { "A\r\n0123456789\r\n000a\r\nabcdefghij\r\n0;last\r\n\r\n", "0123456789abcdefghij" },
        { "0000000000000000000003\r\nabc\r\n0\r\n\r\n", "abc" },
        { "1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", "\r\n" },
        { "400\r\n" + new string('z', 1024) + "\r\n0\r\nT: " + new string('t', 300) + "\r\n\r\n", new string('z', 1024) },
    };

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Decodes_in_every_segment_shape(string body, string expected)
    {
        byte[] input = TestInput.Bytes(body);
        foreach (ReadOnlySequence<byte> sequence in TestInput.AllShapes(input))
        {
            var decoder = new Http1ChunkedDecoder();
            var reader = new SequenceReader<byte>(sequence);
            var output = new List<byte>();
            Assert.True(Drain(ref decoder, ref reader, output));
            Assert.Equal(input.Length, reader.Consumed);
            Assert.Equal(expected, TestInput.Text(output.ToArray()));
            Assert.Equal(expected.Length, decoder.BytesDecoded);
        }
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Decodes_cut_at_every_offset(string body, string expected)
    {
        byte[] input = TestInput.Bytes(body);
        for (int cut = 0; cut < input.Length; cut++)
        {
            var decoder = new Http1ChunkedDecoder();
            var output = new List<byte>();
            var first = new SequenceReader<byte>(TestInput.Single(input.AsMemory(0, cut)));
            Assert.False(Drain(ref decoder, ref first, output));

            ReadOnlyMemory<byte> rest = input.AsMemory((int)first.Consumed);
            var second = new SequenceReader<byte>(cut % 2 == 0 ? TestInput.Single(rest) : TestInput.OneByteSegments(rest));
            Assert.True(Drain(ref decoder, ref second, output));
            Assert.Equal(rest.Length, second.Consumed);
            Assert.Equal(expected, TestInput.Text(output.ToArray()));
        }
    }

    [Theory]
    [MemberData(nameof(ValidBodies))]
    public void Decodes_when_fed_one_byte_at_a_time(string body, string expected)
    {
        // The way a pipe delivers input: unconsumed bytes stay buffered and new ones are appended.
        byte[] input = TestInput.Bytes(body);
        var decoder = new Http1ChunkedDecoder();
        var output = new List<byte>();
        int start = 0;
        bool completed = false;
        for (int end = 1; end <= input.Length; end++)
        {
            Assert.False(completed);
            var reader = new SequenceReader<byte>(TestInput.Single(input.AsMemory(start, end - start)));
            completed = Drain(ref decoder, ref reader, output);
            start += (int)reader.Consumed;
        }

        Assert.True(completed);
        Assert.Equal(input.Length, start);
        Assert.Equal(expected, TestInput.Text(output.ToArray()));
    }

    [Fact]
    public void Leaves_bytes_after_the_body_and_stays_completed()
    {
        byte[] input = TestInput.Bytes("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n");
        var decoder = new Http1ChunkedDecoder();
        var reader = new SequenceReader<byte>(TestInput.Single(input));
        Assert.True(Drain(ref decoder, ref reader, []));
        Assert.Equal(13, reader.Consumed);
        Assert.Equal(Http1ChunkedStatus.Completed, decoder.Read(ref reader, out _));
        Assert.Equal(13, reader.Consumed);
    }

    [Fact]
    public void Returns_data_as_soon_as_part_of_a_chunk_is_there()
    {
        var decoder = new Http1ChunkedDecoder();
        var reader = new SequenceReader<byte>(TestInput.Single(TestInput.Bytes("a\r\nabc")));
        Assert.Equal(Http1ChunkedStatus.Data, decoder.Read(ref reader, out ReadOnlySequence<byte> data));
        Assert.Equal("abc", TestInput.Text(data.ToArray()));
        Assert.Equal(Http1ChunkedStatus.NeedMoreData, decoder.Read(ref reader, out _));
        Assert.Equal(3, decoder.BytesDecoded);
    }

    [Fact]
    public void Accepts_the_largest_chunk_size()
    {
        var decoder = new Http1ChunkedDecoder();
        var reader = new SequenceReader<byte>(TestInput.Single(TestInput.Bytes("4000000000000000\r\n")));
        Assert.Equal(Http1ChunkedStatus.NeedMoreData, decoder.Read(ref reader, out _));
        Assert.Equal(18, reader.Consumed);
    }

    [Fact]
    public void Accepts_a_chunk_line_of_exactly_the_limit()
    {
        string line = "1;e=" + new string('x', Http1ChunkedDecoder.MaxChunkLineLength - 5) + "\r";
        Assert.Equal(Http1ChunkedDecoder.MaxChunkLineLength, line.Length);
        byte[] input = TestInput.Bytes(line + "\nz\r\n0\r\n\r\n");
        foreach (ReadOnlySequence<byte> sequence in new[] { TestInput.Single(input), TestInput.Split(input, 100, 4095) })
        {
            var decoder = new Http1ChunkedDecoder();
            var reader = new SequenceReader<byte>(sequence);
            var output = new List<byte>();
            Assert.True(Drain(ref decoder, ref reader, output));
            Assert.Equal("z", TestInput.Text(output.ToArray()));
        }
    }

    [Fact]
    public void Accepts_a_trailer_section_of_exactly_the_limit()
    {
        // "0\r\n" then one field line and the final CRLF: 8 KiB in all after the last-chunk line.
        string field = "T: " + new string('t', Http1ChunkedDecoder.MaxTrailerSection - 7) + "\r\n";
        byte[] input = TestInput.Bytes("0\r\n" + field + "\r\n");
        var decoder = new Http1ChunkedDecoder();
        var reader = new SequenceReader<byte>(TestInput.Split(input, 10, 5000));
        Assert.True(Drain(ref decoder, ref reader, []));
        Assert.Equal(input.Length, reader.Consumed);
    }

    public static TheoryData<string, string> Rejected => new()
    {
        { "\r\n", "InvalidChunkSize" },
        { ";a\r\n", "InvalidChunkSize" },
        { "g\r\n", "InvalidChunkSize" },
        { "5g\r\n", "InvalidChunkSize" },
        { "-5\r\n", "InvalidChunkSize" },
        { "+5\r\n", "InvalidChunkSize" },
        { "0x5\r\n", "InvalidChunkSize" },
        { "4000000000000001\r\n", "InvalidChunkSize" },
        { "10000000000000000\r\n", "InvalidChunkSize" },
        { "fffffffffffffffffff\r\n", "InvalidChunkSize" },
        { "5\n", "InvalidChunkLine" },
        { "5\rx\n", "InvalidChunkLine" },
        { "5\r5\r\n", "InvalidChunkLine" },
        { "5\rx", "InvalidChunkLine" },
        { "5;\r\n", "InvalidChunkLine" },
        { "5 \r\n", "InvalidChunkLine" },
        { "5;a \r\n", "InvalidChunkLine" },
        { "5;a=\r\n", "InvalidChunkLine" },
        { "5;=b\r\n", "InvalidChunkLine" },
        { "5;a b\r\n", "InvalidChunkLine" },
        { "5;a=b c\r\n", "InvalidChunkLine" },
        { "5;a=\"x\r\n", "InvalidChunkLine" },
        { "5;a=\"\u0001\"\r\n", "InvalidChunkLine" },
        { "5;a=\"\\\u0000\"\r\n", "InvalidChunkLine" },
        { "5;a=@\r\n", "InvalidChunkLine" },
        { "5;;a\r\n", "InvalidChunkLine" },
        { "5\r\nhelloX\r\n", "InvalidChunkData" },
        { "5\r\nhelloX", "InvalidChunkData" },
        { "5\r\nhello\n0\r\n\r\n", "InvalidChunkData" },
        { "5\r\nhello\rX", "InvalidChunkData" },
        { "5\r\nhello world\r\n", "InvalidChunkData" },
        { "0\r\nBad Name: x\r\n\r\n", "InvalidTrailer" },
        { "0\r\nName : x\r\n\r\n", "InvalidTrailer" },
        { "0\r\nX: a\u0000\r\n\r\n", "InvalidTrailer" },
        { "0\r\nX: a\n\r\n", "InvalidTrailer" },
        { "0\r\nX: a\r\n b\r\n\r\n", "InvalidTrailer" },
        { "0\r\nX: a\rb", "InvalidTrailer" },
        { "0\r\n\n", "InvalidTrailer" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Rejects_with_exact_error_in_every_segment_shape(string body, string error)
    {
        foreach (ReadOnlySequence<byte> sequence in TestInput.AllShapes(TestInput.Bytes(body)))
        {
            var exception = Assert.Throws<Http1ParseException>(() =>
            {
                var decoder = new Http1ChunkedDecoder();
                var reader = new SequenceReader<byte>(sequence);
                Drain(ref decoder, ref reader, []);
            });
            Assert.Equal(Enum.Parse<Http1ParseError>(error), exception.Error);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rejects_a_chunk_line_over_the_limit(bool withLineFeed)
    {
        string line = "1;e=" + new string('x', Http1ChunkedDecoder.MaxChunkLineLength);
        byte[] input = TestInput.Bytes(withLineFeed ? line + "\r\nz\r\n0\r\n\r\n" : line);
        foreach (ReadOnlySequence<byte> sequence in new[] { TestInput.Single(input), TestInput.Split(input, 7, 3000) })
        {
            var exception = Assert.Throws<Http1ParseException>(() =>
            {
                var decoder = new Http1ChunkedDecoder();
                var reader = new SequenceReader<byte>(sequence);
                Drain(ref decoder, ref reader, []);
            });
            Assert.Equal(Http1ParseError.ChunkLineTooLong, exception.Error);
        }
    }

    [Theory]
    [InlineData(1, 9000)]
    [InlineData(400, 20)]
    public void Rejects_a_trailer_section_over_the_limit(int fields, int valueLength)
    {
        string field = "T: " + new string('t', valueLength) + "\r\n";
        byte[] input = TestInput.Bytes("0\r\n" + string.Concat(Enumerable.Repeat(field, fields)) + "\r\n");
        var decoder = new Http1ChunkedDecoder();
        int start = 0;

        // Fed in 100-byte steps, so the limit must hold across calls, not only within one.
        var exception = Assert.Throws<Http1ParseException>(() =>
        {
            for (int step = 100; step < input.Length + 100; step += 100)
            {
                int end = Math.Min(step, input.Length);
                var reader = new SequenceReader<byte>(TestInput.Single(input.AsMemory(start, end - start)));
                Drain(ref decoder, ref reader, []);
                start += (int)reader.Consumed;
            }
        });
        Assert.Equal(Http1ParseError.InvalidTrailer, exception.Error);
    }

    /// <summary>Reads until NeedMoreData (false) or Completed (true), appending payload.</summary>
    [Theory]
    [InlineData("5\r\nhello\r\n0\r\nX-Trailer: v\r\nOther:w\r\n\r\n", "X-Trailer: v\r\nOther:w\r\n")]
    [InlineData("5\r\nhello\r\n0\r\n\r\n", "")]
    [InlineData("0;ext\r\nT: 1\r\n\r\n", "T: 1\r\n")]
    public void Captured_trailer_lines_come_back_whole_however_the_input_is_cut(string body, string expectedLines)
    {
        byte[] input = TestInput.Bytes(body);
        for (int cut = 0; cut <= input.Length; cut++)
        {
            var decoder = new Http1ChunkedDecoder { CaptureTrailers = true };
            var lines = new List<byte>();
            var first = new SequenceReader<byte>(TestInput.Single(input.AsMemory(0, cut)));
            bool done = DrainTrailers(ref decoder, ref first, lines);
            if (!done)
            {
                var second = new SequenceReader<byte>(TestInput.Single(input.AsMemory((int)first.Consumed)));
                Assert.True(DrainTrailers(ref decoder, ref second, lines));
                Assert.Equal(input.Length - first.Consumed, second.Consumed);
            }

            Assert.Equal(expectedLines, TestInput.Text(lines.ToArray()));
        }
    }

    [Fact]
    public void Without_capture_trailer_lines_are_validated_and_dropped()
    {
        var decoder = new Http1ChunkedDecoder();
        var reader = new SequenceReader<byte>(TestInput.Single(TestInput.Bytes("0\r\nX-Trailer: v\r\n\r\n")));
        Assert.Equal(Http1ChunkedStatus.Completed, decoder.Read(ref reader, out var data));
        Assert.True(data.IsEmpty);
    }

    private static bool DrainTrailers(ref Http1ChunkedDecoder decoder, ref SequenceReader<byte> reader, List<byte> lines)
    {
        while (true)
        {
            var status = decoder.Read(ref reader, out ReadOnlySequence<byte> data);
            switch (status)
            {
                case Http1ChunkedStatus.Data:
                    break;
                case Http1ChunkedStatus.Trailer:
                    Assert.False(data.IsEmpty);
                    lines.AddRange(data.ToArray());
                    break;
                case Http1ChunkedStatus.Completed:
                    lines.AddRange(data.ToArray());
                    return true;
                default:
                    return false;
            }
        }
    }

    private static bool Drain(ref Http1ChunkedDecoder decoder, ref SequenceReader<byte> reader, List<byte> output)
    {
        while (true)
        {
            switch (decoder.Read(ref reader, out ReadOnlySequence<byte> data))
            {
                case Http1ChunkedStatus.Data:
                    Assert.False(data.IsEmpty);
                    output.AddRange(data.ToArray());
                    break;
                case Http1ChunkedStatus.NeedMoreData:
                    return false;
                default:
                    return true;
            }
        }
    }
}
