using System.Buffers;
using FastGate.Protocols.Http2;
using FastGate.Protocols.Tests.Hpack;

namespace FastGate.Protocols.Tests.Http2;

internal static class Http2TestFrames
{
    /// <summary>A whole frame: the 9-octet header, then the payload given in hex.</summary>
    public static byte[] Frame(int type, int flags, int streamId, string payloadHex)
    {
        byte[] payload = Hex.Bytes(payloadHex);
        var frame = new byte[Http2FrameHeader.Size + payload.Length];
        new Http2FrameHeader(payload.Length, (Http2FrameType)type, (Http2Flags)flags, streamId).Write(frame);
        payload.CopyTo(frame, Http2FrameHeader.Size);
        return frame;
    }

    /// <summary>Runs the payload parser of the frame's type, as a connection would.</summary>
    public static string Parse(in Http2FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        switch (header.Type)
        {
            case Http2FrameType.Data:
                return "data " + Hex.Of(Http2FrameReader.ReadData(header, payload).ToArray());
            case Http2FrameType.Headers:
                ReadOnlySequence<byte> fragment = Http2FrameReader.ReadHeaders(header, payload, out Http2PriorityFields? priority);
                return $"headers {Hex.Of(fragment.ToArray())} {priority}";
            case Http2FrameType.Priority:
                return $"priority {Http2FrameReader.ReadPriority(header, payload)}";
            case Http2FrameType.RstStream:
                return $"rst {Http2FrameReader.ReadRstStream(header, payload)}";
            case Http2FrameType.Settings:
                var settings = new RecordingSettingsHandler();
                bool ack = Http2FrameReader.ReadSettings(header, payload, ref settings);
                return ack ? "settings ack" : "settings " + string.Join(",", settings.Settings.Select(s => $"{s.Parameter}={s.Value}"));
            case Http2FrameType.PushPromise:
                ReadOnlySequence<byte> promised = Http2FrameReader.ReadPushPromise(header, payload, out int promisedStreamId);
                return $"push {promisedStreamId} {Hex.Of(promised.ToArray())}";
            case Http2FrameType.Ping:
                return $"ping {Http2FrameReader.ReadPing(header, payload):x16}";
            case Http2FrameType.GoAway:
                int last = Http2FrameReader.ReadGoAway(header, payload, out Http2ErrorCode code, out ReadOnlySequence<byte> debug);
                return $"goaway {last} {code} {Hex.Of(debug.ToArray())}";
            case Http2FrameType.WindowUpdate:
                return $"window {Http2FrameReader.ReadWindowUpdate(header, payload)}";
            case Http2FrameType.Continuation:
                return "continuation " + Hex.Of(Http2FrameReader.ReadContinuation(header, payload).ToArray());
            default:
                return $"unknown {(int)header.Type} {Hex.Of(payload.ToArray())}";
        }
    }

    /// <summary>Reads one frame from the whole input and parses its payload.</summary>
    public static string ReadAndParse(byte[] frame, uint maxFrameSize = Http2Protocol.DefaultMaxFrameSize)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(frame));
        Assert.True(Http2FrameReader.TryReadFrame(ref reader, maxFrameSize, out Http2FrameHeader header, out ReadOnlySequence<byte> payload));
        return Parse(header, payload);
    }
}

internal struct RecordingSettingsHandler : IHttp2SettingsHandler
{
    public RecordingSettingsHandler()
    {
    }

    public List<Http2Setting> Settings { get; } = [];

    public readonly void OnSetting(Http2SettingsParameter parameter, uint value) => Settings.Add(new Http2Setting(parameter, value));
}
