import type { GraphQLResolveInfo } from "graphql";
import { Arg, Authorized, Ctx, Info, Int, Query, Resolver } from "type-graphql";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { readFeed } from "./feed.service.js";
import { AttendanceChangeFeed } from "./feed.type.js";

@Resolver()
export class FeedResolver {
  @Authorized("API_CLIENT")
  @Policy({ readableBy: "CALLER", api: ["ATTENDANCE_READ"] })
  @Query(() => AttendanceChangeFeed, {
    description:
      "API clients (ATTENDANCE_READ): every committed change of attendance at their centers, of participants whose consent names them, in commit-safe order, each at least once. Resume after `pageInfo.endCursor`.",
  })
  attendanceChanges(
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("first", () => Int, { nullable: true, description: "1..1000, default 100." }) first: number | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return readFeed(ctx, { after, first, operation: info.operation.name?.value ?? info.fieldName });
  }
}
