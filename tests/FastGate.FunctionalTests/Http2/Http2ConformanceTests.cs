using System.Buffers.Binary;
using System.Text;
using FastGate.FunctionalTests.Infrastructure;
using FastGate.Protocols.Http2;

namespace FastGate.FunctionalTests.Http2;

/// <summary>
/// The RFC 9113 requirements that the audit in RFC9113-coverage.md found without a test, each performed
/// with raw frames against the real gateway: the exact frame and code, and whether the connection lives on.
/// </summary>
public sealed class Http2ConformanceTests(H2GatewayFixture fixture) : IClassFixture<H2GatewayFixture>
{
    private H2RawClient Connect() => H2RawClient.Connect(fixture.Port);

    private static (string, string)[] Post(string path, params (string, string)[] extra) =>
        [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", path), .. extra];

    private static void AssertStillServes(H2RawClient client, int streamId) => H2GatewayFixture.AssertStillServes(client, streamId);

    /// <summary>Every frame up to and including the PING ACK answering a PING sent now.</summary>
    private static List<H2Frame> ReadUntilPingAck(H2RawClient client, byte marker)
    {
        client.SendFrame(Http2FrameType.Ping, 0, 0, [marker, 0, 0, 0, 0, 0, 0, 0]);
        var frames = new List<H2Frame>();
        while (client.ReadFrame() is { } frame)
        {
            frames.Add(frame);
            if (frame.Type == Http2FrameType.Ping && frame.Has(Http2Flags.Ack) && frame.Payload[0] == marker)
            {
                return frames;
            }
        }

        throw new IOException("closed before the PING ACK");
    }

    // Section 3.4: the server's preface is its SETTINGS, then the client's preface SETTINGS are acknowledged.
    [Fact]
    public void Preface_settings_are_acknowledged_after_the_server_preface()
    {
        using var client = H2RawClient.Connect(fixture.Port, handshake: false);
        client.Send(Http2Protocol.ClientPreface.ToArray());
        client.SendSettings((Http2SettingsParameter.MaxFrameSize, 20_000));
        var first = client.ReadFrame()!;
        Assert.Equal(Http2FrameType.Settings, first.Type);
        Assert.False(first.Has(Http2Flags.Ack));
        var ack = client.ReadUntil(f => f.Type == Http2FrameType.Settings);
        Assert.True(ack!.Has(Http2Flags.Ack));
        Assert.Empty(ack.Payload);
    }

    // Section 4.1: flags a frame type does not define are ignored, on every frame type.
    [Fact]
    public void Unknown_flags_on_known_frames_are_ignored()
    {
        using var client = Connect();
        const Http2Flags unknownOnHeaders = (Http2Flags)0x02 | (Http2Flags)0x10 | (Http2Flags)0x40 | (Http2Flags)0x80;
        const Http2Flags unknownOnData = (Http2Flags)0x02 | (Http2Flags)0x04 | (Http2Flags)0x10 | (Http2Flags)0x20 | (Http2Flags)0x40 | (Http2Flags)0x80;
        client.SendFrame(Http2FrameType.Settings, (Http2Flags)0xFE, 0, []);
        client.SendFrame(Http2FrameType.Ping, (Http2Flags)0xFE, 0, [7, 7, 7, 7, 7, 7, 7, 7]);
        var pong = client.ReadUntil(f => f.Type == Http2FrameType.Ping);
        Assert.True(pong!.Has(Http2Flags.Ack));
        Assert.Equal(new byte[] { 7, 7, 7, 7, 7, 7, 7, 7 }, pong.Payload);
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | unknownOnHeaders, 1, client.Encode(Post("/unknown-flags")));
        client.SendFrame(Http2FrameType.Data, Http2Flags.EndStream | unknownOnData, 1, "flags"u8.ToArray());
        Assert.Equal("POST /unknown-flags", client.ReadResponse(1).BodyText);
        Assert.Equal("flags", Encoding.ASCII.GetString(fixture.Backend.Seen.Last(r => r.PathAndQuery == "/unknown-flags").Body));
    }

    // Section 4.1: the reserved bit of the stream identifier is ignored on receipt.
    [Fact]
    public void Reserved_bit_of_the_stream_identifier_is_ignored()
    {
        using var client = Connect();
        var frame = H2RawClient.Frame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, client.Encode(H2RawClient.Get("/reserved-bit")));
        frame[5] |= 0x80;
        client.Send(frame);
        Assert.Equal("GET /reserved-bit", client.ReadResponse(1).BodyText);
    }

    // Section 4.2: a frame of exactly 2^14 octets (the default SETTINGS_MAX_FRAME_SIZE) is accepted.
    [Fact]
    public void Data_frame_of_the_maximum_default_size_is_accepted()
    {
        using var client = Connect();
        var body = Enumerable.Range(0, Http2Protocol.DefaultMaxFrameSize).Select(i => (byte)('0' + (i % 10))).ToArray();
        client.SendHeaders(1, Post("/max-frame"), endStream: false);
        client.SendData(1, body, endStream: true);
        Assert.Equal("POST /max-frame", client.ReadResponse(1).BodyText);
        Assert.Equal(body, fixture.Backend.Seen.Last(r => r.PathAndQuery == "/max-frame").Body);
    }

    // Section 4.2: a frame carrying a field block over SETTINGS_MAX_FRAME_SIZE is a connection error FRAME_SIZE_ERROR.
    [Fact]
    public void Headers_frame_over_the_maximum_size_is_a_connection_error()
    {
        using var client = Connect();
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, new byte[Http2Protocol.DefaultMaxFrameSize + 1]);
        client.ExpectGoAway(Http2ErrorCode.FrameSizeError);
    }

    // Sections 4.2 and 6.5.2: the gateway never sends a frame larger than the client's SETTINGS_MAX_FRAME_SIZE (default 2^14).
    [Fact]
    public void Response_frames_stay_within_the_default_maximum_frame_size()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/big"));
        int received = 0;
        while (received < H2GatewayFixture.BigBody.Length)
        {
            var frame = client.ReadUntil(f => f.StreamId == 1 && f.Type == Http2FrameType.Data)!;
            Assert.InRange(frame.Payload.Length, 0, Http2Protocol.DefaultMaxFrameSize);
            received += frame.Payload.Length;
        }

        Assert.Equal(H2GatewayFixture.BigBody.Length, received);
    }

    // Section 4.3 and RFC 7541: every HPACK decoding error is a connection error COMPRESSION_ERROR.
    [Theory]
    [InlineData("index-zero", new byte[] { 0x80 })]
    [InlineData("literal-name-index-past-tables", new byte[] { 0x7E, 0x01, 0x61 })]
    [InlineData("size-update-after-a-field", new byte[] { 0x82, 0x20 })]
    [InlineData("huffman-with-eos", new byte[] { 0x00, 0x01, 0x61, 0x84, 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData("huffman-padding-not-ones", new byte[] { 0x00, 0x01, 0x61, 0x81, 0x18 })]
    [InlineData("block-ends-inside-a-literal", new byte[] { 0x40, 0x03, 0x61, 0x62 })]
    [InlineData("integer-overflow", new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void Hpack_decoding_error_is_a_connection_error_compression_error(string kind, byte[] block)
    {
        Assert.NotEmpty(kind);
        using var client = Connect();
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, block);
        client.ExpectGoAway(Http2ErrorCode.CompressionError);
    }

    // Section 5.5: an extension frame inside a field block is a connection error PROTOCOL_ERROR.
    [Fact]
    public void Unknown_frame_inside_a_header_block_is_a_connection_error()
    {
        using var client = Connect();
        var get = H2RawClient.EncodeStateless(H2RawClient.Get("/c"));
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndStream, 1, get[..3]);
        client.SendFrame((Http2FrameType)0xEE, 0, 0, [1, 2, 3]);
        client.ExpectGoAway(Http2ErrorCode.ProtocolError);
    }

    // Sections 4.3 and 5.1.2: a refused stream's field block still updates the HPACK table, so later
    // blocks that refer to its entries decode.
    [Fact]
    public void Refused_stream_still_updates_the_compression_state()
    {
        using var client = Connect();
        for (int id = 1; id <= 7; id += 2)
        {
            client.SendHeaders(id, H2RawClient.Get("/slow"));
        }

        var first = client.Encode(H2RawClient.Get("/refused", "a", ("x-hpack-probe", "kept-in-step")));
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 9, first);
        client.ExpectReset(9, Http2ErrorCode.RefusedStream);
        for (int ended = 0; ended < 4;)
        {
            var frame = client.ReadFrame() ?? throw new IOException("closed before the four answers");
            Assert.NotEqual(Http2FrameType.GoAway, frame.Type);
            if (frame.StreamId is >= 1 and <= 7 && frame.Has(Http2Flags.EndStream) && frame.Type is Http2FrameType.Data or Http2FrameType.Headers)
            {
                ended++;
            }
        }

        var second = client.Encode(H2RawClient.Get("/refused", "a", ("x-hpack-probe", "kept-in-step")));
        Assert.True(second.Length < first.Length / 2, "the second block should refer to the entries the first added");
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 11, second);
        Assert.Equal("GET /refused", client.ReadResponse(11).BodyText);
        Assert.Equal("kept-in-step", fixture.Backend.Seen.Last(r => r.PathAndQuery == "/refused").Headers["x-hpack-probe"]);
    }

    // Section 5.1 (closed): after the gateway resets a stream, the client's frames already in flight are
    // minimally processed and discarded: trailers still update HPACK, DATA is not answered.
    [Fact]
    public void Frames_on_a_stream_the_gateway_reset_are_processed_for_hpack_and_ignored()
    {
        using var client = Connect();
        client.SendHeaders(1, Post("/reset-then-more", ("content-length", "3")), endStream: false);
        client.SendData(1, "abcd"u8.ToArray(), endStream: false);
        client.ExpectReset(1, Http2ErrorCode.ProtocolError);
        client.SendData(1, "late"u8.ToArray(), endStream: false);
        var trailers = client.Encode([("x-late-trailer", "decoded")]);
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, trailers);
        var frames = ReadUntilPingAck(client, 1);
        Assert.DoesNotContain(frames, f => f.StreamId == 1 || f.Type == Http2FrameType.GoAway);
        client.SendHeaders(3, H2RawClient.Get("/after-reset", "a", ("x-late-trailer", "decoded")));
        Assert.Equal("GET /after-reset", client.ReadResponse(3).BodyText);
        Assert.Equal("decoded", fixture.Backend.Seen.Last(r => r.PathAndQuery == "/after-reset").Headers["x-late-trailer"]);
    }

    // Sections 5.1 and 6.9: WINDOW_UPDATE and RST_STREAM on a stream that ended are not errors.
    [Fact]
    public void Window_update_and_reset_on_a_finished_stream_are_not_errors()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/finished"));
        Assert.Equal(200, client.ReadResponse(1).Status);
        client.SendWindowUpdate(1, 100);
        client.SendRst(1, Http2ErrorCode.Cancel);
        var frames = ReadUntilPingAck(client, 2);
        Assert.DoesNotContain(frames, f => f.StreamId == 1 || f.Type == Http2FrameType.GoAway);
        AssertStillServes(client, 3);
    }

    // Section 6.1: DATA on a stream that is closed is a stream error STREAM_CLOSED.
    [Fact]
    public void Data_on_a_finished_stream_is_a_stream_error_stream_closed()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/finished"));
        Assert.Equal(200, client.ReadResponse(1).Status);
        client.SendData(1, "x"u8.ToArray(), endStream: true);
        client.ExpectReset(1, Http2ErrorCode.StreamClosed);
        AssertStillServes(client, 3);
    }

    // Section 5.4.2: an endpoint never answers a RST_STREAM with a RST_STREAM.
    [Fact]
    public void Client_reset_is_not_answered_with_a_reset()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/slow"));
        client.SendRst(1, Http2ErrorCode.Cancel);
        // /slow answers after a second: by the time stream 3 is answered, stream 1's worker is done.
        client.SendHeaders(3, H2RawClient.Get("/slow"));
        var frames = new List<H2Frame>();
        while (client.ReadFrame() is { } frame)
        {
            frames.Add(frame);
            if (frame.StreamId == 3 && frame.Has(Http2Flags.EndStream))
            {
                break;
            }
        }

        frames.AddRange(ReadUntilPingAck(client, 3));
        Assert.DoesNotContain(frames, f => f.StreamId == 1);
    }

    // Section 5.3.1: a HEADERS frame making its stream depend on itself is a stream error PROTOCOL_ERROR;
    // its field block still updates HPACK.
    [Fact]
    public void Headers_depending_on_their_own_stream_are_a_stream_error()
    {
        using var client = Connect();
        var block = client.Encode(H2RawClient.Get("/self-dependent", "a", ("x-self", "dependent")));
        client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream | Http2Flags.Priority, 1, [0, 0, 0, 1, 16, .. block]);
        client.ExpectReset(1, Http2ErrorCode.ProtocolError);
        client.SendHeaders(3, H2RawClient.Get("/self-dependent", "a", ("x-self", "dependent")));
        Assert.Equal("GET /self-dependent", client.ReadResponse(3).BodyText);
    }

    // Section 6.7: a PING with the ACK flag is never answered.
    [Fact]
    public void Ping_ack_is_not_answered()
    {
        using var client = Connect();
        client.SendFrame(Http2FrameType.Ping, Http2Flags.Ack, 0, [9, 9, 9, 9, 9, 9, 9, 9]);
        client.SendFrame(Http2FrameType.Ping, 0, 0, [4, 4, 4, 4, 4, 4, 4, 4]);
        var ping = client.ReadUntil(f => f.Type == Http2FrameType.Ping);
        Assert.True(ping!.Has(Http2Flags.Ack));
        Assert.Equal(new byte[] { 4, 4, 4, 4, 4, 4, 4, 4 }, ping.Payload);
    }

    // Section 6.8: GOAWAY shorter than its 8 mandatory octets is a connection error FRAME_SIZE_ERROR.
    [Fact]
    public void Goaway_shorter_than_eight_octets_is_a_frame_size_error()
    {
        using var client = Connect();
        client.SendFrame(Http2FrameType.GoAway, 0, 0, new byte[7]);
        client.ExpectGoAway(Http2ErrorCode.FrameSizeError);
    }

    // Section 6.9.2: a SETTINGS_INITIAL_WINDOW_SIZE change that takes an open stream's window past
    // 2^31 - 1 is a connection error FLOW_CONTROL_ERROR.
    [Fact]
    public void Initial_window_size_change_overflowing_a_stream_window_is_a_connection_error()
    {
        using var client = Connect();
        client.SendHeaders(1, H2RawClient.Get("/slow"));
        client.SendWindowUpdate(1, int.MaxValue - Http2Protocol.DefaultInitialWindowSize);
        client.SendSettings((Http2SettingsParameter.InitialWindowSize, Http2Protocol.DefaultInitialWindowSize + 1));
        client.ExpectGoAway(Http2ErrorCode.FlowControlError);
    }

    // Section 6.9.2: a window made negative by a smaller SETTINGS_INITIAL_WINDOW_SIZE holds DATA back until
    // WINDOW_UPDATE makes it positive again, and then only as much as it allows.
    [Fact]
    public void Negative_stream_window_holds_data_until_it_is_positive()
    {
        using var client = H2RawClient.Connect(fixture.Port, handshake: false);
        client.Send(Http2Protocol.ClientPreface.ToArray());
        client.SendSettings((Http2SettingsParameter.InitialWindowSize, 1000));
        client.SendFrame(Http2FrameType.Settings, Http2Flags.Ack, 0, []);
        client.SendWindowUpdate(0, 1 << 30);
        client.AutoWindowUpdate = false;
        client.SendHeaders(1, H2RawClient.Get("/big"));
        int received = 0;
        while (received < 1000)
        {
            received += client.ReadUntil(f => f.Type == Http2FrameType.Data && f.StreamId == 1)!.Payload.Length;
        }

        Assert.Equal(1000, received);
        // Window 0, then 0 - 1000 = -1000; +1000 brings it back to 0: still nothing may be sent.
        client.SendSettings((Http2SettingsParameter.InitialWindowSize, 0));
        client.SendWindowUpdate(1, 1000);
        Assert.DoesNotContain(ReadUntilPingAck(client, 5), f => f.Type == Http2FrameType.Data);
        client.SendWindowUpdate(1, 500);
        int more = 0;
        while (more < 500)
        {
            more += client.ReadUntil(f => f.Type == Http2FrameType.Data && f.StreamId == 1)!.Payload.Length;
        }

        Assert.Equal(500, more);
        Assert.DoesNotContain(ReadUntilPingAck(client, 6), f => f.Type == Http2FrameType.Data);
    }

    // Section 6.5.3: the parameters of one SETTINGS frame are applied in order (the last value wins).
    [Fact]
    public void Settings_values_are_applied_in_order()
    {
        using var client = H2RawClient.Connect(fixture.Port, handshake: false);
        client.Send(Http2Protocol.ClientPreface.ToArray());
        client.SendSettings((Http2SettingsParameter.InitialWindowSize, 0), (Http2SettingsParameter.InitialWindowSize, 700));
        client.SendFrame(Http2FrameType.Settings, Http2Flags.Ack, 0, []);
        client.SendWindowUpdate(0, 1 << 30);
        client.AutoWindowUpdate = false;
        client.SendHeaders(1, H2RawClient.Get("/big"));
        int received = 0;
        while (received < 700)
        {
            received += client.ReadUntil(f => f.Type == Http2FrameType.Data && f.StreamId == 1)!.Payload.Length;
        }

        Assert.Equal(700, received);
        Assert.DoesNotContain(ReadUntilPingAck(client, 7), f => f.Type == Http2FrameType.Data);
    }

    // Section 6.5.2 and RFC 7541 section 4.2: after the client lowers SETTINGS_HEADER_TABLE_SIZE, the next
    // field block the gateway sends starts with a dynamic table size update within the new limit.
    [Fact]
    public void Smaller_header_table_size_is_signalled_at_the_start_of_the_next_block()
    {
        using var client = Connect();
        client.SendSettings((Http2SettingsParameter.HeaderTableSize, 0));
        client.ReadUntil(f => f.Type == Http2FrameType.Settings && f.Has(Http2Flags.Ack));
        client.SendHeaders(1, H2RawClient.Get("/table-size"));
        var headers = client.ReadUntil(f => f.Type == Http2FrameType.Headers && f.StreamId == 1)!;
        // 001xxxxx with a value of 0: "Maximum Dynamic Table Size Change" to 0 (RFC 7541 section 6.3).
        Assert.Equal(0x20, headers.Payload[0]);
    }

    // Section 6.10: CONTINUATION after a block that ended, or after DATA, is a connection error PROTOCOL_ERROR.
    [Theory]
    [InlineData("after-end-headers")]
    [InlineData("after-data")]
    public void Continuation_outside_a_header_block_is_a_connection_error(string kind)
    {
        using var client = Connect();
        client.SendHeaders(1, Post("/continuation"), endStream: false);
        if (kind == "after-data")
        {
            client.SendData(1, "x"u8.ToArray(), endStream: false);
        }

        client.SendFrame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, H2RawClient.EncodeStateless([("x-a", "1")]));
        client.ExpectGoAway(Http2ErrorCode.ProtocolError);
    }

    // Section 8.1: DATA after the trailers (the client's side is closed) is a stream error STREAM_CLOSED.
    [Fact]
    public void Data_after_trailers_is_a_stream_error_stream_closed()
    {
        using var client = Connect();
        client.SendHeaders(1, Post("/slow"), endStream: false);
        client.SendData(1, "x"u8.ToArray(), endStream: false);
        client.SendHeaders(1, [("x-checksum", "1")], endStream: true);
        client.SendData(1, "y"u8.ToArray(), endStream: false);
        client.ExpectReset(1, Http2ErrorCode.StreamClosed);
        AssertStillServes(client, 3);
    }

    // Section 6.9.1: padding is flow controlled; the gateway gives the padding back to the stream at once.
    [Fact]
    public void Padding_counts_against_the_window_and_is_credited_back()
    {
        using var client = Connect();
        client.SendHeaders(1, Post("/padded-upload"), endStream: false);
        var chunk = new byte[1000];
        Array.Fill(chunk, (byte)'p');
        for (int i = 0; i < 50; i++)
        {
            // 1 + 1000 + 255 octets counted per frame: 62,800 in all, within the initial stream window.
            client.SendFrame(Http2FrameType.Data, Http2Flags.Padded, 1, [255, .. chunk, .. new byte[255]]);
        }

        client.SendData(1, [], endStream: true);
        long credited = 0;
        while (client.ReadFrame() is { } frame)
        {
            if (frame.Type == Http2FrameType.WindowUpdate && frame.StreamId == 1)
            {
                credited += BinaryPrimitives.ReadUInt32BigEndian(frame.Payload);
            }

            if (frame.StreamId == 1 && frame.Has(Http2Flags.EndStream) && frame.Type is Http2FrameType.Data or Http2FrameType.Headers)
            {
                break;
            }
        }

        Assert.InRange(credited, 50 * 256, 62_800);
        Assert.Equal(50_000, fixture.Backend.Seen.Last(r => r.PathAndQuery == "/padded-upload").Body.Length);
    }

    // Section 6.8: after the gateway's GOAWAY, a new stream is not processed, yet its field block still
    // updates HPACK, so the open stream's trailers that refer to it decode and the stream completes.
    [Fact]
    public async Task Headers_after_goaway_are_ignored_but_keep_hpack_in_step()
    {
        var gateway = await TestGateway.StartProxyAsync(fixture.Backend);
        Task stopping = Task.CompletedTask;
        try
        {
            using var client = H2RawClient.Connect(gateway.Port);
            client.SendHeaders(1, Post("/slow"), endStream: false);
            client.SendData(1, "x"u8.ToArray(), endStream: false);
            await Task.Delay(300);
            stopping = gateway.DisposeAsync().AsTask();
            var goAway = client.ReadUntil(f => f.Type == Http2FrameType.GoAway)!;
            Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
            Assert.Equal(1, goAway.GoAwayLastStreamId);

            client.SendHeaders(3, H2RawClient.Get("/after-goaway", "a", ("x-after-goaway", "decoded")));
            var trailers = client.Encode([("x-after-goaway", "decoded")]);
            Assert.True(trailers.Length <= 2, "the trailers should refer to the entry stream 3's block added");
            client.SendFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, trailers);

            var frames = new List<H2Frame>();
            while (client.ReadFrame() is { } frame)
            {
                frames.Add(frame);
            }

            Assert.DoesNotContain(frames, f => f.Type == Http2FrameType.GoAway || f.Type == Http2FrameType.RstStream || f.StreamId == 3);
            Assert.Contains(frames, f => f.StreamId == 1 && f.Has(Http2Flags.EndStream));
            Assert.DoesNotContain(fixture.Backend.Seen, r => r.PathAndQuery == "/after-goaway");
        }
        finally
        {
            await stopping;
            if (stopping == Task.CompletedTask)
            {
                await gateway.DisposeAsync();
            }
        }
    }

    // Section 6.1: DATA on a stream the client reset (closed) is a stream error STREAM_CLOSED.
    [Fact]
    public void Data_after_the_clients_reset_is_a_stream_error_stream_closed()
    {
        using var client = Connect();
        client.SendHeaders(1, Post("/slow"), endStream: false);
        client.SendRst(1, Http2ErrorCode.Cancel);
        client.SendData(1, "x"u8.ToArray(), endStream: false);
        client.ExpectReset(1, Http2ErrorCode.StreamClosed);
        AssertStillServes(client, 3);
    }

    // Section 9.2: TLS 1.2 or later only; section 9.2.2: over TLS 1.2, only ephemeral key exchange with an
    // AEAD cipher (a suite on the Appendix A block list never gets as far as HTTP/2).
    [Theory]
    [InlineData("-tls1_1", "DEFAULT:@SECLEVEL=0", false)]
    [InlineData("-tls1_2", "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0", false)]
    [InlineData("-tls1_2", "ECDHE-ECDSA-AES128-GCM-SHA256", true)]
    public async Task Tls_below_1_2_and_blocklisted_suites_are_refused(string version, string ciphers, bool accepted)
    {
        using var certificates = FastGate.Gateway.Tests.Tls.TestCertificates.Create();
        await using var gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([fixture.Backend]), tls: certificates);
        var (_, output) = await Http2ClientsTests.RunAsync("/bin/sh", "-c",
            $"openssl s_client -connect 127.0.0.1:{gateway.TlsPort} {version} -cipher '{ciphers}' -alpn h2 </dev/null");
        if (accepted)
        {
            Assert.Contains("New, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256", output, StringComparison.Ordinal);
            Assert.Contains("ALPN protocol: h2", output, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("Cipher is (NONE)", output, StringComparison.Ordinal);
        }
    }

    // Section 9.2.1: over TLS 1.2, no TLS compression and no renegotiation: a client's renegotiation ends
    // the connection (a GOAWAY cannot be sent mid-handshake), while the same connection without it stays up.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Tls12_has_no_compression_and_renegotiation_ends_the_connection(bool renegotiate)
    {
        using var certificates = FastGate.Gateway.Tests.Tls.TestCertificates.Create();
        await using var gateway = await TestGateway.StartAsync(TestGateway.ProxyRoutes([fixture.Backend]), tls: certificates);
        string input = renegotiate ? "printf 'R\\n'; " : string.Empty;
        var (_, output) = await Http2ClientsTests.RunAsync("/bin/sh", "-c",
            $"(sleep 1; {input}sleep 1) | openssl s_client -connect 127.0.0.1:{gateway.TlsPort} -tls1_2 -alpn h2");
        Assert.Contains("Compression: NONE", output, StringComparison.Ordinal);
        Assert.Contains("ALPN protocol: h2", output, StringComparison.Ordinal);
        // s_client prints DONE when its input ends with the connection still up.
        Assert.Equal(!renegotiate, output.Contains("DONE", StringComparison.Ordinal));
        if (renegotiate)
        {
            Assert.Contains("RENEGOTIATING", output, StringComparison.Ordinal);
        }
    }
}
