import { GraphQLBigInt } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A product in a hot-products ranking: its clicks over the ranked hour of event time.' })
export class HotProduct {
  @Field(() => ID)
  productId!: string;

  @Field(() => Int, { description: 'Clicks in the ranked hour (other actions do not count).' })
  clicks!: number;

  @Field(() => Int, {
    description:
      '1-based. Equal clicks get consecutive ranks, the smaller productId first (so a top-N list always has N entries).',
  })
  rank!: number;

  @Field(() => String, {
    nullable: true,
    description: "The product's category: that of its latest click carrying one; null when none did.",
  })
  category!: string | null;
}

@ObjectType({ description: 'The hottest products of one category over the ranked hour.' })
export class CategoryHotProducts {
  @Field()
  category!: string;

  @Field(() => [HotProduct], { description: 'By clicks descending, ties by productId; rank is within the category.' })
  products!: HotProduct[];
}

@ObjectType({ description: "One minute of one product's clicks (1-minute tumbling window of event time)." })
export class ProductClickBucket {
  @Field({ description: 'Window start (inclusive); the window ends a minute later (exclusive).' })
  minute!: Date;

  @Field(() => Int)
  clicks!: number;

  @Field(() => GraphQLBigInt, {
    description:
      "All of the product's clicks in minutes up to and including this one. A late click into an earlier minute raises every later running total.",
  })
  runningTotal!: number | bigint;
}

@ObjectType({
  description:
    'The ranking of the hour ending at a 5-minute boundary of event time, published once the watermark of every partition passed the boundary.',
})
export class HotProductsUpdate {
  @Field({ description: 'Start of the ranked hour (inclusive).' })
  windowStart!: Date;

  @Field({ description: 'End of the ranked hour (exclusive): the 5-minute boundary.' })
  windowEnd!: Date;

  @Field(() => [HotProduct])
  products!: HotProduct[];
}
