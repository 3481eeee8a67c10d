using System.Text;
using System.Text.Json;
using FastGate.Gateway.Composition;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace FastGate.Gateway.Tests.Composition;

public class JsonStreamValidatorTests
{
    private static readonly string[] Valid =
    [
        "{}", "[]", "0", "-12.5e+3", "true", "false", "null", "\"\"", "\"a\\\"b\\\\c\\u00e9\"",
        " { \"a\" : [ 1 , 2.0 , { \"b\" : null } ] , \"c\" : \"d\" } \n",
        "{\"name\":\"Zoë 😀\",\"tags\":[\"x\",\"y\"],\"n\":{\"m\":{\"o\":[[],[{}]]}}}",
        "[1,[2,[3,[4]]],\"five\",{\"six\":6}]",
    ];

    private static readonly string[] Invalid =
    [
        "", " ", "{", "[1,2", "{\"a\":}", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "tru", "nul", "01", "1.", "-",
        "\"abc", "\"\\x\"", "{} {}", "[] x", "{'a':1}", "{a:1}", "[1 2]", "// c\n1", "NaN", "\"tab\there\"",
        "<html>not json</html>", "GET /users/1",
    ];

    /// <summary>
    /// Feeds <paramref name="json"/> the way the merger does: appended to a window at each cut, the
    /// validator resumed at the end of the last complete token, the last block final.
    /// </summary>
    private static (JsonValidation Result, int Scanned, JsonStreamValidator Validator) Feed(byte[] json, params int[] cuts)
    {
        var validator = JsonStreamValidator.Create();
        int scanned = 0;
        int filled = 0;
        foreach (int cut in cuts.Append(json.Length).Order())
        {
            filled = cut;
            var result = validator.Validate(json.AsSpan(scanned, filled - scanned), isFinalBlock: false, out int consumed);
            scanned += consumed;
            if (result == JsonValidation.Invalid)
            {
                return (result, scanned, validator);
            }
        }

        var final = validator.Validate(json.AsSpan(scanned, filled - scanned), isFinalBlock: true, out int last);
        return (final, scanned + last, validator);
    }

    [Fact]
    public void Valid_documents_are_complete_when_split_at_every_byte()
    {
        foreach (var text in Valid)
        {
            var json = Encoding.UTF8.GetBytes(text);
            for (int cut = 0; cut <= json.Length; cut++)
            {
                Assert.True(Feed(json, cut).Result == JsonValidation.Complete, $"'{text}' cut at {cut}");
            }

            Assert.Equal(JsonValidation.Complete, Feed(json, Enumerable.Range(1, json.Length).ToArray()).Result);
        }
    }

    [Fact]
    public void Invalid_documents_never_pass_whatever_the_split()
    {
        foreach (var text in Invalid)
        {
            var json = Encoding.UTF8.GetBytes(text);
            for (int cut = 0; cut <= json.Length; cut++)
            {
                Assert.True(Feed(json, cut).Result == JsonValidation.Invalid, $"'{text}' cut at {cut}");
            }

            Assert.Equal(JsonValidation.Invalid, Feed(json, Enumerable.Range(1, json.Length).ToArray()).Result);
        }
    }

    [Fact]
    public void Invalid_utf8_inside_a_string_or_a_name_is_refused()
    {
        Assert.Equal(JsonValidation.Invalid, Feed([(byte)'"', 0xC3, (byte)'"']).Result);
        Assert.Equal(JsonValidation.Invalid, Feed([(byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}']).Result);
        Assert.Equal(JsonValidation.Complete, Feed([(byte)'"', 0xC3, 0xA9, (byte)'"'], 2).Result);
    }

    [Fact]
    public void Deeper_than_the_limit_is_refused()
    {
        var deep = Encoding.ASCII.GetBytes(new string('[', 65) + new string(']', 65));
        var limit = Encoding.ASCII.GetBytes(new string('[', 64) + new string(']', 64));
        Assert.Equal(JsonValidation.Invalid, Feed(deep).Result);
        Assert.Equal(JsonValidation.Complete, Feed(limit).Result);
    }

    [Theory]
    [InlineData("{\"a\":[1,2", "{\"a\":[1]}")]
    [InlineData("{\"a\":", "{\"a\":null}")]
    [InlineData("{\"a\":\"unfinished", "{\"a\":null}")]
    [InlineData("[{\"b\":{}},", "[{\"b\":{}}]")]
    [InlineData("\"unfinished", "null")]
    [InlineData("", "null")]
    [InlineData("[tru", "[]")]
    [InlineData("{\"a\":1,\"b\":x", "{\"a\":1,\"b\":null}")]
    public void A_prefix_cut_at_its_last_complete_token_closes_into_valid_json(string prefix, string expected)
    {
        var json = Encoding.UTF8.GetBytes(prefix);
        var validator = JsonStreamValidator.Create();
        validator.Validate(json, isFinalBlock: false, out int consumed);
        Span<byte> closing = stackalloc byte[JsonStreamValidator.MaxClosingLength];
        int n = validator.WriteClosing(closing);
        Assert.Equal(expected, Encoding.UTF8.GetString(json, 0, consumed) + Encoding.UTF8.GetString(closing[..n]));
    }

    // Properties: random documents (FsCheck picks the seed and the cuts).

    private static string RandomJson(Random random, int depth, bool asciiOnly)
    {
        string ws() => random.Next(4) == 0 ? " \n\t\r"[random.Next(4)].ToString() : "";
        string str()
        {
            var sb = new StringBuilder("\"");
            int n = random.Next(6);
            for (int i = 0; i < n; i++)
            {
                sb.Append(random.Next(8) switch
                {
                    0 => "\\n",
                    1 => "\\\"",
                    2 => "\\u00e9",
                    3 => asciiOnly ? "x" : "é",
                    4 => asciiOnly ? "y" : "😀",
                    _ => ((char)random.Next('a', 'z' + 1)).ToString(),
                });
            }

            return sb.Append('"').ToString();
        }

        int kind = depth >= 5 ? random.Next(5) : random.Next(7);
        string value = kind switch
        {
            0 => random.Next(-1000, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture) + (random.Next(3) == 0 ? ".25e-2" : ""),
            1 => "true",
            2 => "false",
            3 => "null",
            4 => str(),
            5 => "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => RandomJson(random, depth + 1, asciiOnly))) + "]",
            _ => "{" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => ws() + str() + ws() + ":" + RandomJson(random, depth + 1, asciiOnly))) + "}",
        };
        return ws() + value + ws();
    }

    private static int[] Cuts(int[] raw, int length) => [.. raw.Select(c => length == 0 ? 0 : Math.Abs(c % (length + 1)))];

    [Property(MaxTest = 400)]
    public bool Any_valid_json_split_anywhere_validates(int seed, int[] cuts)
    {
        var json = Encoding.UTF8.GetBytes(RandomJson(new Random(seed), 0, asciiOnly: false));
        return Feed(json, Cuts(cuts, json.Length)).Result == JsonValidation.Complete;
    }

    [Property(MaxTest = 600)]
    public bool Invalid_json_never_passes_and_valid_json_always_does(int seed, int[] cuts, byte mutation)
    {
        // A valid document damaged by deleting, inserting or replacing one byte; JsonDocument is the judge.
        var random = new Random(seed);
        var text = RandomJson(random, 0, asciiOnly: true);
        int at = random.Next(text.Length + 1);
        string noise = ((char)"{}[],:\"\\ tfn0-.e}"[mutation % 17]).ToString();
        text = (mutation % 3) switch
        {
            0 when at < text.Length => text.Remove(at, 1),
            1 => text.Insert(at, noise),
            _ => at < text.Length ? text.Remove(at, 1).Insert(at, noise) : text + noise,
        };
        var json = Encoding.UTF8.GetBytes(text);
        bool parses;
        try
        {
            using var document = JsonDocument.Parse(json);
            parses = true;
        }
        catch (JsonException)
        {
            parses = false;
        }

        var result = Feed(json, Cuts(cuts, json.Length)).Result;
        return parses ? result == JsonValidation.Complete : result == JsonValidation.Invalid;
    }

    [Property(MaxTest = 400)]
    public bool Any_prefix_closes_into_valid_json(int seed, int cut)
    {
        var json = Encoding.UTF8.GetBytes(RandomJson(new Random(seed), 0, asciiOnly: false));
        int length = Math.Abs(cut % (json.Length + 1));
        var validator = JsonStreamValidator.Create();
        validator.Validate(json.AsSpan(0, length), isFinalBlock: false, out int consumed);
        var closing = new byte[JsonStreamValidator.MaxClosingLength];
        int n = validator.WriteClosing(closing);
        byte[] closed = [.. json.AsSpan(0, consumed), .. closing.AsSpan(0, n)];
        using var document = JsonDocument.Parse(closed);
        return true;
    }
}
