using System.Buffers;
using FastGate.Protocols.Hpack;
using FastGate.Protocols.Tests.Http1;

namespace FastGate.Protocols.Tests.Hpack;

/// <summary>RFC 7541 appendix C, decoded and encoded byte for byte.</summary>
public class HpackRfcExampleTests
{
    private const string Date21 = "Mon, 21 Oct 2013 20:13:21 GMT";
    private const string Date22 = "Mon, 21 Oct 2013 20:13:22 GMT";
    private const string Cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

    private static readonly (string, string)[] Request1 = [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")];
    private static readonly (string, string)[] Request2 = [.. Request1, ("cache-control", "no-cache")];
    private static readonly (string, string)[] Request3 = [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")];
    private static readonly (string, string)[] Response1 = [(":status", "302"), ("cache-control", "private"), ("date", Date21), ("location", "https://www.example.com")];
    private static readonly (string, string)[] Response2 = [(":status", "307"), ("cache-control", "private"), ("date", Date21), ("location", "https://www.example.com")];
    private static readonly (string, string)[] Response3 = [(":status", "200"), ("cache-control", "private"), ("date", Date22), ("location", "https://www.example.com"), ("content-encoding", "gzip"), ("set-cookie", Cookie)];

    private static readonly (string, string)[] RequestTable1 = [(":authority", "www.example.com")];
    private static readonly (string, string)[] RequestTable2 = [("cache-control", "no-cache"), (":authority", "www.example.com")];
    private static readonly (string, string)[] RequestTable3 = [("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")];
    private static readonly (string, string)[] ResponseTable1 = [("location", "https://www.example.com"), ("date", Date21), ("cache-control", "private"), (":status", "302")];
    private static readonly (string, string)[] ResponseTable2 = [(":status", "307"), ("location", "https://www.example.com"), ("date", Date21), ("cache-control", "private")];
    private static readonly (string, string)[] ResponseTable3 = [("set-cookie", Cookie), ("content-encoding", "gzip"), ("date", Date22)];

    private const string C31 = "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d";
    private const string C32 = "8286 84be 5808 6e6f 2d63 6163 6865";
    private const string C33 = "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65";
    private const string C41 = "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff";
    private const string C42 = "8286 84be 5886 a8eb 1064 9cbf";
    private const string C43 = "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf";
    private const string C51 = "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d";
    private const string C52 = "4803 3330 37c1 c0bf";
    private const string C53Head = "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970";
    private const string C53Cookie = "38 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31";
    private const string C61 = "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3";
    private const string C62 = "4883 640e ffc1 c0bf";
    private const string C63Head = "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab";
    private const string C63Cookie = "ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07";

    public static TheoryData<string, string[], (string, string)[][], (string, string)[][], int[]> Sequences => new()
    {
        { "C.3", [C31, C32, C33], [Request1, Request2, Request3], [RequestTable1, RequestTable2, RequestTable3], [57, 110, 164] },
        { "C.4", [C41, C42, C43], [Request1, Request2, Request3], [RequestTable1, RequestTable2, RequestTable3], [57, 110, 164] },
        { "C.5", [C51, C52, C53Head + "77" + C53Cookie], [Response1, Response2, Response3], [ResponseTable1, ResponseTable2, ResponseTable3], [222, 222, 215] },
        { "C.6", [C61, C62, C63Head + "77" + C63Cookie], [Response1, Response2, Response3], [ResponseTable1, ResponseTable2, ResponseTable3], [222, 222, 215] },
    };

    [Theory]
    [InlineData("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", "custom-key", "custom-header", 55)] // C.2.1
    [InlineData("040c 2f73 616d 706c 652f 7061 7468", ":path", "/sample/path", 0)] // C.2.2
    [InlineData("1008 7061 7373 776f 7264 0673 6563 7265 74", "password", "secret", 0)] // C.2.3
    [InlineData("82", ":method", "GET", 0)] // C.2.4
    public void Decodes_the_single_field_examples_of_c2(string hex, string name, string value, int tableSize)
    {
        foreach (ReadOnlySequence<byte> shape in TestInput.AllShapes(Hex.Bytes(hex)))
        {
            using var decoder = new HpackDecoder();
            var handler = new RecordingHeaderHandler();
            decoder.Decode(shape, endHeaders: true, ref handler);
            Assert.Equal([(name, value)], handler.Headers);
            Assert.Equal(tableSize, decoder.DynamicTable.Size);
            Assert.Equal(tableSize == 0 ? [] : [(name, value)], decoder.DynamicTable.Entries());
        }
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Decodes_each_sequence_with_the_table_contents(string section, string[] blocks, (string, string)[][] headers, (string, string)[][] tables, int[] sizes)
    {
        using var decoder = new HpackDecoder(section is "C.5" or "C.6" ? 256 : 4096);
        for (int i = 0; i < blocks.Length; i++)
        {
            Assert.Equal(headers[i], decoder.DecodeAll(Hex.Bytes(blocks[i])));
            Assert.Equal(tables[i], decoder.DynamicTable.Entries());
            Assert.Equal(sizes[i], decoder.DynamicTable.Size);
        }
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Decodes_each_block_in_every_segment_shape(string section, string[] blocks, (string, string)[][] headers, (string, string)[][] tables, int[] sizes)
    {
        _ = tables;
        ReadOnlySequence<byte>[][] shapes = [.. blocks.Select(b => TestInput.AllShapes(Hex.Bytes(b)).ToArray())];
        int shapeCount = shapes.Max(s => s.Length);
        for (int shape = 0; shape < shapeCount; shape++)
        {
            using var decoder = new HpackDecoder(section is "C.5" or "C.6" ? 256 : 4096);
            for (int i = 0; i < blocks.Length; i++)
            {
                var handler = new RecordingHeaderHandler();
                decoder.Decode(shapes[i][Math.Min(shape, shapes[i].Length - 1)], endHeaders: true, ref handler);
                Assert.Equal(headers[i], handler.Headers);
                Assert.Equal(sizes[i], decoder.DynamicTable.Size);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Decodes_each_block_split_over_continuation_at_every_offset(string section, string[] blocks, (string, string)[][] headers, (string, string)[][] tables, int[] sizes)
    {
        _ = sizes;
        int last = blocks.Length - 1;
        byte[] lastBlock = Hex.Bytes(blocks[last]);
        for (int cut = 0; cut <= lastBlock.Length; cut++)
        {
            using var decoder = new HpackDecoder(section is "C.5" or "C.6" ? 256 : 4096);
            for (int i = 0; i < last; i++)
            {
                decoder.DecodeAll(Hex.Bytes(blocks[i]));
            }

            // HEADERS, then CONTINUATION frames: the cut, and the rest in two more pieces.
            var handler = new RecordingHeaderHandler();
            int second = cut + ((lastBlock.Length - cut) / 2);
            decoder.Decode(new ReadOnlySequence<byte>(lastBlock, 0, cut), endHeaders: false, ref handler);
            decoder.Decode(new ReadOnlySequence<byte>(lastBlock, cut, second - cut), endHeaders: false, ref handler);
            decoder.Decode(TestInput.OneByteSegments(lastBlock.AsMemory(second)), endHeaders: true, ref handler);
            Assert.Equal(headers[last], handler.Headers);
            Assert.Equal(tables[last], decoder.DynamicTable.Entries());
        }
    }

    [Fact]
    public void Encodes_c3_without_huffman()
    {
        using var encoder = new HpackEncoder(useHuffman: false);
        Assert.Equal(Hex.Of(Hex.Bytes(C31)), Hex.Of(encoder.EncodeBlock(Request1)));
        Assert.Equal(Hex.Of(Hex.Bytes(C32)), Hex.Of(encoder.EncodeBlock(Request2)));
        Assert.Equal(Hex.Of(Hex.Bytes(C33)), Hex.Of(encoder.EncodeBlock(Request3)));
        Assert.Equal(RequestTable3, encoder.DynamicTable.Entries());
        Assert.Equal(164, encoder.DynamicTable.Size);
    }

    [Fact]
    public void Encodes_c4_with_huffman()
    {
        using var encoder = new HpackEncoder();
        Assert.Equal(Hex.Of(Hex.Bytes(C41)), Hex.Of(encoder.EncodeBlock(Request1)));
        Assert.Equal(Hex.Of(Hex.Bytes(C42)), Hex.Of(encoder.EncodeBlock(Request2)));
        Assert.Equal(Hex.Of(Hex.Bytes(C43)), Hex.Of(encoder.EncodeBlock(Request3)));
        Assert.Equal(RequestTable3, encoder.DynamicTable.Entries());
    }

    /// <summary>
    /// C.5 and C.6 with a 256-octet table. The RFC's encoder indexes set-cookie; ours sends it never
    /// indexed (section 7.1.3): "1f28" (0001 + index 55) instead of "77" (01 + index 55), and the entry
    /// stays out of the table, so location and :status 307 survive.
    /// </summary>
    [Theory]
    [InlineData(false, C51, C52, C53Head, C53Cookie)]
    [InlineData(true, C61, C62, C63Head, C63Cookie)]
    public void Encodes_c5_and_c6_responses_with_eviction(bool huffman, string first, string second, string thirdHead, string thirdCookie)
    {
        using var encoder = new HpackEncoder(headerTableSize: 256, useHuffman: huffman);
        Assert.Equal(Hex.Of(Hex.Bytes(first)), Hex.Of(encoder.EncodeBlock(Response1)));
        Assert.Equal(ResponseTable1, encoder.DynamicTable.Entries());
        Assert.Equal(Hex.Of(Hex.Bytes(second)), Hex.Of(encoder.EncodeBlock(Response2)));
        Assert.Equal(ResponseTable2, encoder.DynamicTable.Entries());
        byte[] third = encoder.EncodeBlock(Response3);
        Assert.Equal(Hex.Of(Hex.Bytes(thirdHead + "1f28" + thirdCookie)), Hex.Of(third));
        (string, string)[] expectedTable = [("content-encoding", "gzip"), ("date", Date22), (":status", "307"), ("location", "https://www.example.com")];
        Assert.Equal(expectedTable, encoder.DynamicTable.Entries());
        Assert.Equal(222, encoder.DynamicTable.Size);

        // And a decoder reading our bytes agrees on the fields and the table.
        using var decoder = new HpackDecoder(256);
        decoder.DecodeAll(Hex.Bytes(first));
        decoder.DecodeAll(Hex.Bytes(second));
        Assert.Equal(Response3, decoder.DecodeAll(third));
        Assert.Equal(expectedTable, decoder.DynamicTable.Entries());
    }
}
