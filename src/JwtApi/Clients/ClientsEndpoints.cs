using JwtApi.Auth;
using JwtApi.Hosting;
using JwtApi.Storage;
using JwtApi.Tokens;
using JwtApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace JwtApi.Clients;

/// <summary>
/// <c>/clients</c>: admins register clients, change their rights, rotate their secrets, disable and delete them.
/// A secret is answered once (at registration and at rotation) and stored only as a hash. Every write re-reads its
/// caller (<see cref="CurrentUser.BeginWriteAsync"/>); a change of rights, a disable, an enable and a delete end
/// every token the client holds (<see cref="TokenRevoker.EndAllTokensOf(Client)"/>).
/// </summary>
public static class ClientsEndpoints
{
    public const int MaxPageSize = 100;

    public static IEndpointRouteBuilder MapClients(this IEndpointRouteBuilder app)
    {
        // Bodies bounded like the other admin writes': a name, 32 scopes and 16 audiences fit in far less than 16 KB.
        var admin = app.MapGroup("/clients").WithTags("Clients (admin)")
            .RequireAuthorization(Policies.Admin).WithMetadata(AuthEndpoints.MaxBody)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        admin.MapGet("", ListClients).WithName(nameof(ListClients)).WithSummary("List registered clients, a page at a time.")
            .ProducesValidationProblem();
        admin.MapGet("/{id}", GetClient).WithName(nameof(GetClient)).WithSummary("One registered client (never its secret).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("", CreateClient).WithName(nameof(CreateClient))
            .WithSummary("Register a client: the answer holds its secret, shown this once.")
            .ProducesValidationProblem();
        admin.MapPut("/{id}", UpdateClient).WithName(nameof(UpdateClient))
            .WithSummary("Replace a client's grant types, scopes and audiences, and its name when given (changed rights end its tokens).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/{id}/secret", RotateClientSecret).WithName(nameof(RotateClientSecret))
            .WithSummary("A new secret, shown this once; the previous one keeps working for Clients:SecretOverlap.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/{id}/disable", DisableClient).WithName(nameof(DisableClient))
            .WithSummary("Disable a client: it can no longer authenticate, and its tokens end.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/{id}/enable", EnableClient).WithName(nameof(EnableClient))
            .WithSummary("Enable a disabled client (its tokens from before still end).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapDelete("/{id}", DeleteClient).WithName(nameof(DeleteClient))
            .WithSummary("Delete a client and end its tokens.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    static async Task<Results<Ok<ClientPage>, ValidationProblem>> ListClients(
        AppDb db, CancellationToken ct, int page = 1, int pageSize = 20)
    {
        // the offset must fit the database's integer (as at GET /users)
        var maxPage = int.MaxValue / Math.Max(pageSize, 1);
        if (page < 1 || page > maxPage || pageSize is < 1 or > MaxPageSize)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [pageSize is < 1 or > MaxPageSize ? "pageSize" : "page"] = [pageSize is < 1 or > MaxPageSize
                    ? $"pageSize must be 1 to {MaxPageSize}."
                    : $"page must be 1 to {maxPage} for pageSize {pageSize}."],
            });
        }
        var total = await db.Clients.CountAsync(ct);
        var clients = await db.Clients.AsNoTracking().OrderBy(c => c.Name).ThenBy(c => c.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return TypedResults.Ok(new ClientPage(clients.Select(ClientResponse.From).ToList(), page, pageSize, total));
    }

    static async Task<Results<Ok<ClientResponse>, ProblemHttpResult>> GetClient(string id, AppDb db, CancellationToken ct) =>
        await FindAsync(db.Clients.AsNoTracking(), id, ct) is { } client
            ? TypedResults.Ok(ClientResponse.From(client))
            : ClientProblems.ClientNotFound();

    static async Task<Results<Created<CreatedClientResponse>, ValidationProblem, ProblemHttpResult>> CreateClient(
        CreateClientRequest body, ClientRules rules, AppDb db, CurrentUser currentUser, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var (errors, rights) = rules.Check(body.Name, nameRequired: true, body.GrantTypes, body.Scopes, body.Audiences);
        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var secret = ClientSecrets.Generate();
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        var now = time.GetUtcNow();
        var client = new Client
        {
            Name = body.Name!,
            GrantTypes = rights!.GrantTypes,
            Scopes = rights.Scopes,
            Audiences = rights.Audiences,
            SecretHash = ClientSecrets.Hash(secret),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Clients.Add(client);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        audit.ClientChanged(client.Id, "registered");
        return TypedResults.Created($"/clients/{client.Id}", CreatedClientResponse.From(client, secret));
    }

    static async Task<Results<Ok<ClientResponse>, ValidationProblem, ProblemHttpResult>> UpdateClient(
        string id, UpdateClientRequest body, ClientRules rules, AppDb db, CurrentUser currentUser, TokenRevoker revoker,
        TimeProvider time, CancellationToken ct)
    {
        var (errors, rights) = rules.Check(body.Name, nameRequired: false, body.GrantTypes, body.Scopes, body.Audiences);
        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        if (await FindAsync(db.Clients, id, ct) is not { } client)
        {
            return ClientProblems.ClientNotFound();
        }
        if (rights!.DifferFrom(client))
        {
            // tokens carrying the old rights stop at once; the next token request gets the new ones
            revoker.EndAllTokensOf(client);
        }
        client.Name = body.Name ?? client.Name;
        client.GrantTypes = rights.GrantTypes;
        client.Scopes = rights.Scopes;
        client.Audiences = rights.Audiences;
        if (db.ChangeTracker.HasChanges())
        {
            client.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(ct);
            await write.CommitAsync(ct);
        }
        return TypedResults.Ok(ClientResponse.From(client));
    }

    static async Task<Results<Ok<ClientSecretResponse>, ProblemHttpResult>> RotateClientSecret(
        string id, AppDb db, CurrentUser currentUser, IOptions<ClientsOptions> options, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var secret = ClientSecrets.Generate();
        var hash = ClientSecrets.Hash(secret);
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        if (await FindAsync(db.Clients, id, ct) is not { } client)
        {
            return ClientProblems.ClientNotFound();
        }
        var now = time.GetUtcNow();
        var overlap = options.Value.SecretOverlap;
        // The previous secret keeps working for the overlap, so the client's deployment can roll onto the new one;
        // one rotated before it is dropped now (only the last two secrets ever work). A leaked secret: overlap 0.
        client.PreviousSecretHash = overlap > TimeSpan.Zero ? client.SecretHash : null;
        client.PreviousSecretValidUntil = overlap > TimeSpan.Zero ? (now + overlap).ToUnixTimeSeconds() : null;
        client.SecretHash = hash;
        client.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        audit.ClientChanged(client.Id, "secret_rotated");
        return TypedResults.Ok(new ClientSecretResponse(client.Id, secret,
            client.PreviousSecretValidUntil is { } until ? DateTimeOffset.FromUnixTimeSeconds(until) : null));
    }

    static Task<Results<Ok<ClientResponse>, ProblemHttpResult>> DisableClient(
        string id, AppDb db, CurrentUser currentUser, TokenRevoker revoker, CancellationToken ct) =>
        SetDisabledAsync(id, disabled: true, db, currentUser, revoker, ct);

    static Task<Results<Ok<ClientResponse>, ProblemHttpResult>> EnableClient(
        string id, AppDb db, CurrentUser currentUser, TokenRevoker revoker, CancellationToken ct) =>
        SetDisabledAsync(id, disabled: false, db, currentUser, revoker, ct);

    static async Task<Results<Ok<ClientResponse>, ProblemHttpResult>> SetDisabledAsync(
        string id, bool disabled, AppDb db, CurrentUser currentUser, TokenRevoker revoker, CancellationToken ct)
    {
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        if (await FindAsync(db.Clients, id, ct) is not { } client)
        {
            return ClientProblems.ClientNotFound();
        }
        if (client.Disabled != disabled)
        {
            client.Disabled = disabled;
            revoker.EndAllTokensOf(client);
            await db.SaveChangesAsync(ct);
            await write.CommitAsync(ct);
        }
        return TypedResults.Ok(ClientResponse.From(client));
    }

    static async Task<Results<NoContent, ProblemHttpResult>> DeleteClient(
        string id, AppDb db, CurrentUser currentUser, TokenRevoker revoker, CancellationToken ct)
    {
        await using var write = await currentUser.BeginWriteAsync(Roles.Admin, ct);
        if (write.Refusal is { } refusal)
        {
            return refusal;
        }
        if (await FindAsync(db.Clients, id, ct) is not { } client)
        {
            return ClientProblems.ClientNotFound();
        }
        // authentication already fails for a missing client; this ends the access tokens it still holds
        revoker.EndAllTokensOf(client);
        db.Clients.Remove(client);
        await db.SaveChangesAsync(ct);
        await write.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    // an id JwtApi never hands out is not looked up
    private static async Task<Client?> FindAsync(IQueryable<Client> clients, string id, CancellationToken ct) =>
        ClientAuthentication.IsPlausibleId(id) ? await clients.FirstOrDefaultAsync(c => c.Id == id, ct) : null;
}
