using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using FastGate.Gateway.Composition;

namespace FastGate.Gateway.Tests.Composition;

/// <summary>
/// Differential fuzz: seeded random documents, valid and damaged, judged by System.Text.Json, and the
/// validator must agree whatever the block boundaries.
/// </summary>
/// <remarks>
/// The judge is <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/> with default
/// options (no comments, no trailing commas) and <c>MaxDepth</c> = <see cref="JsonStreamValidator.MaxDepth"/>:
/// both count a container as one level, so 64 nested arrays pass and 65 do not (checked below). Two rules
/// System.Text.Json does not apply are added to it: the whole input must be valid UTF-8 (the reader does
/// not check string contents; outside strings, valid JSON is ASCII), and a leading byte order mark, which
/// the reader skips, is refused.
/// </remarks>
public class JsonStreamValidatorFuzzTests
{
    private const int Seed = 20261126;

    private static readonly string[] Words = ["id", "name", "Zoë", "日本語", "😀", "a\\\"b", "\\u00e9", "\\uD83D\\uDE00", "\\ud800", "\\/", "\\b\\f\\n\\r\\t", "x"];

    private static readonly byte[] Noise = [.. "{}[],:\"\\ \t\n\rtfnulre0123456789-+.eE/bu"u8, 0x00, 0x0B, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xED, 0xF4, 0xFF];

    private static bool Judge(byte[] json)
    {
        if (json.AsSpan().StartsWith("\xEF\xBB\xBF"u8.ToArray()) || !Utf8.IsValid(json))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = JsonStreamValidator.MaxDepth });
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Feeds the blocks the merger's way: appended to a window, resumed where the last call stopped.</summary>
    private static (JsonValidation Result, byte[] Closed) Feed(byte[] json, ReadOnlySpan<int> blockEnds)
    {
        var validator = JsonStreamValidator.Create();
        int scanned = 0;
        var result = JsonValidation.NeedMore;
        foreach (int end in blockEnds)
        {
            bool final = end == json.Length;
            result = validator.Validate(json.AsSpan(scanned, end - scanned), final, out int consumed);
            scanned += consumed;
            if (result != JsonValidation.NeedMore)
            {
                break;
            }
        }

        var closing = new byte[JsonStreamValidator.MaxClosingLength];
        int n = validator.WriteClosing(closing);
        return (result, [.. json.AsSpan(0, scanned), .. closing.AsSpan(0, n)]);
    }

    private static void AssertAgrees(byte[] json, bool expected, ReadOnlySpan<int> blockEnds)
    {
        var (result, closed) = Feed(json, blockEnds);
        if (result != (expected ? JsonValidation.Complete : JsonValidation.Invalid))
        {
            Assert.Fail($"{result} for {Convert.ToHexString(json)} ('{Encoding.UTF8.GetString(json)}'), expected {(expected ? "valid" : "invalid")}, blocks ending at {string.Join(",", blockEnds.ToArray())}");
        }

        // What was consumed, closed where it stopped, is what the merger sends when a part fails mid-stream.
        if (!Judge(closed))
        {
            Assert.Fail($"'{Encoding.UTF8.GetString(closed)}' does not parse (closed prefix of '{Encoding.UTF8.GetString(json)}')");
        }
    }

    private static string Document(Random random, int depth)
    {
        string ws() => random.Next(3) switch
        {
            0 => new string(' ', random.Next(40)),
            1 => "\r\n\t "[..random.Next(5)],
            _ => "",
        };

        int kind = random.Next(depth >= 6 ? 5 : 7);
        string value = kind switch
        {
            0 => Number(random),
            1 => "true",
            2 => "false",
            3 => "null",
            4 => Text(random),
            5 => "[" + string.Join(",", Enumerable.Range(0, random.Next(5)).Select(_ => Document(random, depth + 1))) + "]",
            _ => "{" + string.Join(",", Enumerable.Range(0, random.Next(5)).Select(_ => ws() + Text(random) + ws() + ":" + Document(random, depth + 1))) + "}",
        };
        return ws() + value + ws();
    }

    private static string Number(Random random)
    {
        var sb = new StringBuilder(random.Next(2) == 0 ? "-" : "");
        sb.Append(random.Next(4) == 0 ? "0" : (char)random.Next('1', '9' + 1) + new string((char)random.Next('0', '9' + 1), random.Next(0, 20)));
        if (random.Next(3) == 0)
        {
            sb.Append('.').Append(random.Next(0, 100000));
        }

        if (random.Next(3) == 0)
        {
            sb.Append("eE"[random.Next(2)]).Append(new[] { "", "+", "-" }[random.Next(3)]).Append(random.Next(0, 400));
        }

        return sb.ToString();
    }

    private static string Text(Random random)
    {
        // Short names and values, and runs longer than one vector (16 bytes) so that both scans are used.
        var sb = new StringBuilder("\"");
        int parts = random.Next(4) == 0 ? random.Next(10, 40) : random.Next(4);
        for (int i = 0; i < parts; i++)
        {
            sb.Append(random.Next(3) == 0 ? Words[random.Next(Words.Length)] : new string((char)random.Next('a', 'z' + 1), random.Next(1, 20)));
        }

        return sb.Append('"').ToString();
    }

    private static byte[] Damage(Random random, byte[] json)
    {
        var bytes = new List<byte>(json);
        for (int k = random.Next(1, 3); k > 0; k--)
        {
            int at = random.Next(bytes.Count + 1);
            byte noise = random.Next(4) == 0 ? (byte)random.Next(256) : Noise[random.Next(Noise.Length)];
            switch (random.Next(4))
            {
                case 0 when at < bytes.Count:
                    bytes.RemoveAt(at);
                    break;
                case 1:
                    bytes.Insert(at, noise);
                    break;
                case 2 when at < bytes.Count:
                    bytes[at] = noise;
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }

    private static int[] RandomBlocks(Random random, int length)
    {
        var ends = new List<int>();
        for (int end = 0; end < length;)
        {
            end = Math.Min(length, end + random.Next(1, random.Next(2) == 0 ? 8 : 64));
            ends.Add(end);
        }

        if (ends.Count == 0)
        {
            ends.Add(0);
        }

        return [.. ends];
    }

    [Fact]
    public void The_judge_counts_depth_as_the_validator_does()
    {
        Assert.True(Judge(Encoding.ASCII.GetBytes(new string('[', 64) + new string(']', 64))));
        Assert.False(Judge(Encoding.ASCII.GetBytes(new string('[', 65) + new string(']', 65))));
        AssertAgrees(Encoding.ASCII.GetBytes(new string('[', 64) + new string(']', 64)), true, [128]);
        AssertAgrees(Encoding.ASCII.GetBytes(new string('{', 1) + "\"a\":" + new string('[', 64) + new string(']', 64) + "}"), false, [134]);
    }

    [Fact]
    public void Agrees_with_System_Text_Json_on_random_and_damaged_documents_in_any_blocks()
    {
        var random = new Random(Seed);
        var clock = Stopwatch.StartNew();
        int valid = 0;
        int documents = 0;
        while (documents < 4000 || (documents < 40000 && clock.Elapsed < TimeSpan.FromSeconds(3)))
        {
            documents++;
            var json = Encoding.UTF8.GetBytes(Document(random, 0));
            if (random.Next(3) != 0)
            {
                json = Damage(random, json);
            }

            bool expected = Judge(json);
            valid += expected ? 1 : 0;
            AssertAgrees(json, expected, [json.Length]);
            AssertAgrees(json, expected, RandomBlocks(random, json.Length));
            if (json.Length <= 200)
            {
                // Cut at every offset: one block up to the cut, the rest final.
                for (int cut = 0; cut <= json.Length; cut++)
                {
                    AssertAgrees(json, expected, cut == json.Length ? [cut] : [cut, json.Length]);
                }
            }
        }

        // The generator must produce both kinds in numbers, or the comparison says little.
        Assert.InRange(valid, documents / 5, documents - documents / 5);
    }

    [Fact]
    public void Agrees_on_utf8_split_in_every_place()
    {
        // Every byte of 1- to 4-byte sequences and broken ones (overlong, surrogate, past U+10FFFF, cut,
        // stray continuation), inside a string long enough for the vectorised scan, cut at every offset.
        byte[][] sequences =
        [
            [0x41], [0xC3, 0xA9], [0xE6, 0x97, 0xA5], [0xF0, 0x9F, 0x98, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF0, 0x80, 0x80, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xC3], [0xE6, 0x97], [0xF0, 0x9F, 0x98],
            [0xC3, 0x41], [0xE6, 0x41, 0x80], [0xEF, 0xBB, 0xBF],
        ];
        foreach (var sequence in sequences)
        {
            foreach (int padding in new[] { 0, 5, 20 })
            {
                byte[] json = [(byte)'[', (byte)'"', .. Enumerable.Repeat((byte)'p', padding), .. sequence, .. sequence, (byte)'"', (byte)']'];
                bool expected = Judge(json);
                for (int cut = 0; cut <= json.Length; cut++)
                {
                    AssertAgrees(json, expected, cut == json.Length ? [cut] : [cut, json.Length]);
                }
            }
        }

        Assert.False(Judge([0xEF, 0xBB, 0xBF, (byte)'1']));
        AssertAgrees([0xEF, 0xBB, 0xBF, (byte)'1'], false, [4]);
    }
}
