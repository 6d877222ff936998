/** One prefecture-level city of the seeded `city` table. */
export interface CitySeed {
  /** Administrative division code (GB/T 2260), e.g. `440100`. */
  code: string;
  /** Official name. */
  name: string;
  /** Name in pinyin. */
  nameEn: string;
  /** Longitude of the city centre, degrees east (GCJ-02, as Chinese web maps use). */
  longitude: number;
  /** Latitude of the city centre, degrees north (GCJ-02). */
  latitude: number;
  /** Resident population of the 2020 census, millions: the sample producer's city popularity. */
  populationMillions: number;
}

/** Administrative division code of Guangdong province. */
export const GUANGDONG_PROVINCE_CODE = '440000';

/**
 * The 21 prefecture-level cities of Guangdong, in code order: the rows the
 * migration `20261121040000_recharge_metrics` inserts into `city` (a unit test
 * checks that the two agree). The sample producer and the tests use these codes.
 */
export const GUANGDONG_CITIES: readonly CitySeed[] = Object.freeze([
  {
    code: '440100',
    name: '广州市',
    nameEn: 'Guangzhou',
    longitude: 113.264385,
    latitude: 23.129112,
    populationMillions: 18.68,
  },
  {
    code: '440200',
    name: '韶关市',
    nameEn: 'Shaoguan',
    longitude: 113.591544,
    latitude: 24.801322,
    populationMillions: 2.86,
  },
  {
    code: '440300',
    name: '深圳市',
    nameEn: 'Shenzhen',
    longitude: 114.085947,
    latitude: 22.547,
    populationMillions: 17.56,
  },
  {
    code: '440400',
    name: '珠海市',
    nameEn: 'Zhuhai',
    longitude: 113.553986,
    latitude: 22.224979,
    populationMillions: 2.44,
  },
  {
    code: '440500',
    name: '汕头市',
    nameEn: 'Shantou',
    longitude: 116.708463,
    latitude: 23.37102,
    populationMillions: 5.5,
  },
  {
    code: '440600',
    name: '佛山市',
    nameEn: 'Foshan',
    longitude: 113.122717,
    latitude: 23.028762,
    populationMillions: 9.5,
  },
  {
    code: '440700',
    name: '江门市',
    nameEn: 'Jiangmen',
    longitude: 113.094942,
    latitude: 22.590431,
    populationMillions: 4.8,
  },
  {
    code: '440800',
    name: '湛江市',
    nameEn: 'Zhanjiang',
    longitude: 110.364977,
    latitude: 21.274898,
    populationMillions: 6.98,
  },
  {
    code: '440900',
    name: '茂名市',
    nameEn: 'Maoming',
    longitude: 110.919229,
    latitude: 21.659751,
    populationMillions: 6.17,
  },
  {
    code: '441200',
    name: '肇庆市',
    nameEn: 'Zhaoqing',
    longitude: 112.472529,
    latitude: 23.051546,
    populationMillions: 4.11,
  },
  {
    code: '441300',
    name: '惠州市',
    nameEn: 'Huizhou',
    longitude: 114.412599,
    latitude: 23.079404,
    populationMillions: 6.04,
  },
  {
    code: '441400',
    name: '梅州市',
    nameEn: 'Meizhou',
    longitude: 116.117582,
    latitude: 24.299112,
    populationMillions: 3.87,
  },
  {
    code: '441500',
    name: '汕尾市',
    nameEn: 'Shanwei',
    longitude: 115.364238,
    latitude: 22.774485,
    populationMillions: 2.67,
  },
  {
    code: '441600',
    name: '河源市',
    nameEn: 'Heyuan',
    longitude: 114.697802,
    latitude: 23.746266,
    populationMillions: 2.84,
  },
  {
    code: '441700',
    name: '阳江市',
    nameEn: 'Yangjiang',
    longitude: 111.975107,
    latitude: 21.859222,
    populationMillions: 2.6,
  },
  {
    code: '441800',
    name: '清远市',
    nameEn: 'Qingyuan',
    longitude: 113.051227,
    latitude: 23.685022,
    populationMillions: 3.97,
  },
  {
    code: '441900',
    name: '东莞市',
    nameEn: 'Dongguan',
    longitude: 113.746262,
    latitude: 23.046237,
    populationMillions: 10.47,
  },
  {
    code: '442000',
    name: '中山市',
    nameEn: 'Zhongshan',
    longitude: 113.382391,
    latitude: 22.521113,
    populationMillions: 4.42,
  },
  {
    code: '445100',
    name: '潮州市',
    nameEn: 'Chaozhou',
    longitude: 116.632301,
    latitude: 23.661701,
    populationMillions: 2.57,
  },
  {
    code: '445200',
    name: '揭阳市',
    nameEn: 'Jieyang',
    longitude: 116.355733,
    latitude: 23.543778,
    populationMillions: 5.58,
  },
  {
    code: '445300',
    name: '云浮市',
    nameEn: 'Yunfu',
    longitude: 112.044439,
    latitude: 22.929801,
    populationMillions: 2.38,
  },
]);
