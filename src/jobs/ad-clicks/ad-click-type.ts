import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

/** What a blacklist entry names. */
export enum BlacklistKind {
  USER = 'USER',
  IP = 'IP',
}
registerEnumType(BlacklistKind, {
  name: 'BlacklistKind',
  description: "USER: an ad click's user_id. IP: its ip (the address text exactly as the clicks carry it).",
});

/** A change of the blacklist, as audited. */
export enum BlacklistAction {
  ADD = 'ADD',
  REMOVE = 'REMOVE',
}
registerEnumType(BlacklistAction, { name: 'BlacklistAction', description: 'An entry added or removed.' });

/** Kind of an `adClicksUpdated` event. */
export enum AdClicksEventKind {
  CHANGE = 'CHANGE',
  PROGRESS = 'PROGRESS',
}
registerEnumType(AdClicksEventKind, {
  name: 'AdClicksEventKind',
  description:
    'CHANGE: an (ad, minute) a commit changed, with its values after that commit. PROGRESS (only with `withProgress: true`): only the latest committed cursor; its other fields are placeholders (adId empty, counts 0, minute = committedAt).',
});

@ObjectType({ description: "One minute of one ad's clicks (1-minute tumbling window of event time)." })
export class AdClickMinute {
  @Field({ description: 'Window start (inclusive); the window ends a minute later (exclusive).' })
  minute!: Date;

  @Field(() => Int, { description: 'Clicks counted: neither the user nor the IP was on the blacklist.' })
  clicks!: number;

  @Field(() => Int, { description: 'Clicks dropped because their user was on the blacklist.' })
  blockedByUser!: number;

  @Field(() => Int, { description: 'Clicks dropped because their IP (and not their user) was on the blacklist.' })
  blockedByIp!: number;
}

@ObjectType({ description: "One ad's clicks over a range of minutes." })
export class AdClickTotal {
  @Field(() => ID)
  adId!: string;

  @Field(() => Int)
  clicks!: number;

  @Field(() => Int)
  blockedByUser!: number;

  @Field(() => Int)
  blockedByIp!: number;
}

@ObjectType({
  description:
    "Every ad's clicks dropped by the blacklist over a range of minutes, by reason, beside the clicks counted.",
})
export class BlockedClicks {
  @Field({ description: 'Start of the first minute of the range.' })
  from!: Date;

  @Field({ description: 'End of the range (exclusive), as asked.' })
  to!: Date;

  @Field(() => Int, { description: 'Clicks counted.' })
  clicks!: number;

  @Field(() => Int, { description: 'Dropped for their user.' })
  blockedByUser!: number;

  @Field(() => Int, { description: 'Dropped for their IP (their user was not on the blacklist).' })
  blockedByIp!: number;

  @Field(() => Int, { description: 'blockedByUser + blockedByIp.' })
  blocked!: number;
}

@ObjectType({
  description: 'Who changed the blacklist: the role and a stable id of the credential (never the credential).',
})
export class BlacklistActor {
  @Field({ description: 'viewer, crm or ops.' })
  role!: string;

  @Field({ description: 'First 12 hex digits of sha256 of the API key (or of `jwt:<iss>:<sub>` for a token).' })
  keyId!: string;
}

@ObjectType({ description: 'One blacklisted user id or IP.' })
export class BlacklistEntry {
  @Field(() => BlacklistKind)
  kind!: BlacklistKind;

  @Field()
  value!: string;

  @Field(() => String, { nullable: true, description: 'Why, as given when it was added.' })
  note!: string | null;

  @Field(() => BlacklistActor)
  addedBy!: BlacklistActor;

  @Field()
  addedAt!: Date;
}

@ObjectType({ description: 'What addToBlacklist or removeFromBlacklist did.' })
export class BlacklistChangeResult {
  @Field({ description: 'False when there was nothing to do (already listed / not listed); nothing is audited then.' })
  changed!: boolean;

  @Field(() => BlacklistKind)
  kind!: BlacklistKind;

  @Field()
  value!: string;
}

@ObjectType({ description: 'One audited change of the blacklist.' })
export class BlacklistChange {
  @Field(() => BlacklistAction)
  action!: BlacklistAction;

  @Field(() => BlacklistKind)
  kind!: BlacklistKind;

  @Field()
  value!: string;

  @Field(() => String, { nullable: true })
  note!: string | null;

  @Field(() => BlacklistActor)
  by!: BlacklistActor;

  @Field()
  at!: Date;
}

@ObjectType({ description: 'An (ad, minute) a commit changed, or a PROGRESS event.' })
export class AdClicksUpdate {
  @Field(() => AdClicksEventKind)
  kind!: AdClicksEventKind;

  @Field({ description: 'Resume after this event with `adClicksUpdated(after: cursor)`. Opaque.' })
  cursor!: string;

  @Field({ description: 'When the change committed (for PROGRESS: when the cursor was read).' })
  committedAt!: Date;

  @Field(() => ID)
  adId!: string;

  @Field({ description: 'Window start of the minute (inclusive).' })
  minute!: Date;

  @Field(() => Int, { description: 'Clicks counted in this minute after the commit (absolute).' })
  clicks!: number;

  @Field(() => Int)
  blockedByUser!: number;

  @Field(() => Int)
  blockedByIp!: number;
}
