import { DateResolver } from 'graphql-scalars';
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

const AMOUNT =
  'Yuan of the successful recharges as an exact decimal string with 2 decimals, e.g. "1234.50" (never a float: parse it with a decimal library, or compare it as text).';

/** The counts every recharge aggregate shares: a base class whose fields type-graphql copies onto each subtype (it is not in the schema itself, no resolver returns it). */
@ObjectType()
abstract class RechargeTotals {
  @Field(() => Int, {
    description: 'Recharge orders notified (reChargeNotifyReq), successful or not; each orderId counts once.',
  })
  orders!: number;

  @Field(() => Int, { description: 'Orders with bussinessRst "0000".' })
  succeeded!: number;

  @Field(() => Int, { description: 'Orders with any other bussinessRst.' })
  failed!: number;

  @Field(() => Float, { description: 'succeeded / orders, 0..1; 0 without orders.' })
  successRate!: number;

  @Field({ description: AMOUNT })
  amount!: string;
}

@ObjectType({
  description:
    "One city's recharges on one calendar day of TIME_ZONE (Asia/Shanghai by default). Each orderId counts once.",
})
export class CityRechargeStats extends RechargeTotals {
  @Field(() => DateResolver, { description: 'The local calendar date.' })
  date!: Date;

  @Field({ description: 'Administrative division code, e.g. 440100.' })
  cityCode!: string;

  @Field({ description: 'Official name, e.g. 广州市.' })
  cityName!: string;

  @Field({ description: 'Name in pinyin, e.g. Guangzhou.' })
  cityNameEn!: string;

  @Field(() => Float, { description: 'City centre, degrees east (GCJ-02, as Chinese web maps use).' })
  longitude!: number;

  @Field(() => Float, { description: 'City centre, degrees north (GCJ-02).' })
  latitude!: number;

  @Field(() => Float, {
    description: 'Mean of (notify time - request time) over the orders, milliseconds; 0 without orders.',
  })
  avgDurationMs!: number;
}

@ObjectType({ description: "The whole province's recharges in one minute of notify time." })
export class RechargeMinute extends RechargeTotals {
  @Field({ description: 'Start of the minute (inclusive); the minute ends 60 s later (exclusive).' })
  minuteStart!: Date;
}

@ObjectType({ description: "The whole province's recharges on one calendar day of TIME_ZONE." })
export class RechargeSummary extends RechargeTotals {
  @Field(() => DateResolver, { description: 'The local calendar date.' })
  date!: Date;

  @Field(() => Float, {
    description: 'Mean duration of a whole recharge (notify time - request time), milliseconds; 0 without orders.',
  })
  avgDurationMs!: number;

  @Field(() => Int, { description: 'Cities with at least one order.' })
  activeCities!: number;
}

/** What a `cityMetricsUpdated` event is. */
export enum CityMetricsEventKind {
  SNAPSHOT = 'SNAPSHOT',
  CHANGE = 'CHANGE',
  PROGRESS = 'PROGRESS',
}
registerEnumType(CityMetricsEventKind, {
  name: 'CityMetricsEventKind',
  description:
    "SNAPSHOT (only with `snapshot: true`): a subscribed city's current values of today, sent first. CHANGE: a city's new values after a commit. PROGRESS (only with `withProgress: true`): no change, only the latest committed cursor; its other fields are placeholders (cityCode and names empty, counts 0).",
});

@ObjectType({
  description:
    "An event of `cityMetricsUpdated`: a city's stats of one calendar day (absolute values) with the cursor to resume after it.",
})
export class CityMetricsUpdate extends CityRechargeStats {
  @Field(() => CityMetricsEventKind)
  kind!: CityMetricsEventKind;

  @Field({
    description:
      'Opaque position right after this event: pass it as `after` to resume exactly after it (see README, "Subscriptions: exactly once with a cursor").',
  })
  cursor!: string;

  @Field({
    description:
      'CHANGE: when the batch transaction wrote it; SNAPSHOT: when the snapshot was read; PROGRESS: when the server last read the change log.',
  })
  committedAt!: Date;
}
