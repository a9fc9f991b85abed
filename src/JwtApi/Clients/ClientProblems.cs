using Microsoft.AspNetCore.Http.HttpResults;

namespace JwtApi.Clients;

/// <summary>The expected failures of the client admin API, each with one wording.</summary>
public static class ClientProblems
{
    public static ProblemHttpResult ClientNotFound() => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Client not found",
        detail: "No registered client has that client_id.");
}
