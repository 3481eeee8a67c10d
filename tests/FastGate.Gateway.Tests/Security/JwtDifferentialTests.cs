using System.Text;
using FastGate.Gateway.Security;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;
using static FastGate.Gateway.Tests.Security.JwtTestKeys;

namespace FastGate.Gateway.Tests.Security;

/// <summary>FastGate's validator and Microsoft's JsonWebTokenHandler, given the same policy, must agree on
/// accept/reject for every token of the corpus and for random mutations of valid tokens. The deliberate
/// differences are listed in <see cref="JwtCorpus"/> (iat, typ, string exp, crit, signature padding, content after
/// the JSON, duplicate names: FastGate is stricter in each), and each is asserted to really be a difference, so the list cannot go stale.</summary>
public class JwtDifferentialTests(ITestOutputHelper output)
{
    private const int Mutations = 200;

    [Fact]
    public async Task Corpus_gets_the_same_verdict_from_both_validators()
    {
        var ours = new JwtValidator(JwtCorpus.Policy, KeySet);
        var disagreements = new List<string>();
        foreach (JwtCase c in JwtCorpus.Valid.Concat(JwtCorpus.Hostile))
        {
            bool oursAccepts = ours.Validate(Encoding.ASCII.GetBytes(c.Token), Now, out _) == JwtValidationResult.Valid;
            (bool microsoftAccepts, string reason) = await MicrosoftAsync(c.Token);
            bool expectedMicrosoft = c.Difference is null ? oursAccepts : !oursAccepts;
            if (microsoftAccepts != expectedMicrosoft)
            {
                disagreements.Add($"{c.Name}: FastGate {(oursAccepts ? "accepts" : "rejects")}, Microsoft {(microsoftAccepts ? "accepts" : "rejects: " + reason)}");
            }
        }

        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }

    [Fact]
    public async Task Random_mutations_of_valid_tokens_get_the_same_verdict_from_both_validators()
    {
        var ours = new JwtValidator(JwtCorpus.Policy, KeySet);
        var random = new Random(8725);
        string[] valid = [.. JwtCorpus.Valid.Select(c => c.Token)];
        var disagreements = new List<string>();
        int documented = 0;
        int tested = 0;
        while (tested < Mutations)
        {
            string original = valid[random.Next(valid.Length)];
            (string kind, string mutated) = Mutate(original, random);
            if (mutated == original)
            {
                continue;
            }

            tested++;
            JwtValidationResult result = ours.Validate(Encoding.ASCII.GetBytes(mutated), Now, out _);
            (bool microsoftAccepts, string reason) = await MicrosoftAsync(mutated);
            bool oursAccepts = result == JwtValidationResult.Valid;
            Assert.False(oursAccepts, $"{kind}: FastGate accepted a mutated token {mutated}");
            if (microsoftAccepts == oursAccepts)
            {
                continue;
            }

            // The only documented way Microsoft accepts a mutation: a signature that decodes to the same bytes
            // through its lenient decoder ('=' padding), which FastGate rejects as non-canonical base64url.
            if (result == JwtValidationResult.Malformed && IsSameSignatureOf(mutated, original))
            {
                documented++;
                continue;
            }

            disagreements.Add($"{kind}: FastGate {result}, Microsoft {(microsoftAccepts ? "accepts" : "rejects: " + reason)}: {mutated}");
        }

        output.WriteLine($"{tested} mutations, {documented} documented differences (padded signature)");
        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }

    private static async Task<(bool Accepts, string Reason)> MicrosoftAsync(string token)
    {
        var handler = new JsonWebTokenHandler { MaximumTokenSizeInBytes = JwtPolicy.DefaultMaxTokenSize };
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudiences = [Audience, "other-audience"],
            IssuerSigningKeys = MicrosoftKeys,
            ValidAlgorithms = [.. AllAlgorithms.Where(a => (a & JwtCorpus.CorpusAlgorithms) != 0).Select(JwtAlgorithmInfo.Name)],
            ClockSkew = TimeSpan.FromSeconds(30),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,

            // FastGate selects the key by kid only; Microsoft would otherwise try every key on a kid miss.
            TryAllIssuerSigningKeys = false,
        };
        TokenValidationResult result = await handler.ValidateTokenAsync(token, parameters);
        return (result.IsValid, result.Exception?.GetType().Name + " " + result.Exception?.Message);
    }

    private static (string Kind, string Token) Mutate(string token, Random random)
    {
        string[] parts = token.Split('.');
        int at = random.Next(token.Length);
        switch (random.Next(7))
        {
            case 0:
                char[] flipped = token.ToCharArray();
                flipped[at] = (char)(flipped[at] ^ (1 << random.Next(7)));
                return ("flip a bit", new string(flipped));
            case 1:
                return ("drop a char", token.Remove(at, 1));
            case 2:
                return ("duplicate a char", token.Insert(at, token[at].ToString()));
            case 3:
                return ("swap header and payload", parts[1] + "." + parts[0] + "." + parts[2]);
            case 4:
                string other = JwtCorpus.Valid[random.Next(JwtCorpus.Valid.Count)].Token;
                return ("signature of another token", parts[0] + "." + parts[1] + "." + other.Split('.')[2]);
            case 5:
                return ("truncate", token[..at]);
            default:
                string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                string signature = parts[2];
                int i = signature.Length - 1 - random.Next(Math.Min(3, signature.Length));
                char[] chars = signature.ToCharArray();
                chars[i] = alphabet[random.Next(alphabet.Length)];
                return ("change a signature tail char", parts[0] + "." + parts[1] + "." + new string(chars));
        }
    }

    private static bool IsSameSignatureOf(string mutated, string original)
    {
        string[] m = mutated.Split('.');
        string[] o = original.Split('.');
        try
        {
            return m.Length == 3 && m[0] == o[0] && m[1] == o[1] && m[2] != o[2]
                && Base64UrlEncoder.DecodeBytes(m[2]).AsSpan().SequenceEqual(Base64UrlEncoder.DecodeBytes(o[2]));
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
