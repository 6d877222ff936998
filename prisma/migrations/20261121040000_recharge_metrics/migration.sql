-- Recharge analytics by city (issue 3): the seeded cities, the seen order ids
-- (duplicates are counted once) and the additive aggregates.

-- CreateTable
CREATE TABLE `city` (
    `code` VARCHAR(12) NOT NULL,
    `name` VARCHAR(64) NOT NULL,
    `name_en` VARCHAR(64) NOT NULL,
    `longitude` DECIMAL(9, 6) NOT NULL,
    `latitude` DECIMAL(9, 6) NOT NULL,
    `province_code` VARCHAR(12) NOT NULL,

    PRIMARY KEY (`code`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
-- order_id compares byte for byte (utf8mb4_bin): "A1" and "a1" are two orders.
CREATE TABLE `recharge_order` (
    `order_id` VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    `notify_time` DATETIME(3) NOT NULL,
    `city_code` VARCHAR(12) NOT NULL,

    PRIMARY KEY (`order_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `recharge_city_daily` (
    `day` DATE NOT NULL,
    `city_code` VARCHAR(12) NOT NULL,
    `orders` INTEGER NOT NULL DEFAULT 0,
    `succeeded` INTEGER NOT NULL DEFAULT 0,
    `failed` INTEGER NOT NULL DEFAULT 0,
    `amount` DECIMAL(18, 2) NOT NULL DEFAULT 0.00,
    `duration_ms_sum` BIGINT NOT NULL DEFAULT 0,

    PRIMARY KEY (`day`, `city_code`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `recharge_minute` (
    `minute_start` DATETIME(3) NOT NULL,
    `orders` INTEGER NOT NULL DEFAULT 0,
    `succeeded` INTEGER NOT NULL DEFAULT 0,
    `amount` DECIMAL(18, 2) NOT NULL DEFAULT 0.00,

    PRIMARY KEY (`minute_start`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Seed: the 21 prefecture-level cities of Guangdong (GB/T 2260 codes; centres in GCJ-02).
INSERT INTO `city` (`code`, `name`, `name_en`, `longitude`, `latitude`, `province_code`) VALUES
    ('440100', '广州市', 'Guangzhou', 113.264385, 23.129112, '440000'),
    ('440200', '韶关市', 'Shaoguan', 113.591544, 24.801322, '440000'),
    ('440300', '深圳市', 'Shenzhen', 114.085947, 22.547000, '440000'),
    ('440400', '珠海市', 'Zhuhai', 113.553986, 22.224979, '440000'),
    ('440500', '汕头市', 'Shantou', 116.708463, 23.371020, '440000'),
    ('440600', '佛山市', 'Foshan', 113.122717, 23.028762, '440000'),
    ('440700', '江门市', 'Jiangmen', 113.094942, 22.590431, '440000'),
    ('440800', '湛江市', 'Zhanjiang', 110.364977, 21.274898, '440000'),
    ('440900', '茂名市', 'Maoming', 110.919229, 21.659751, '440000'),
    ('441200', '肇庆市', 'Zhaoqing', 112.472529, 23.051546, '440000'),
    ('441300', '惠州市', 'Huizhou', 114.412599, 23.079404, '440000'),
    ('441400', '梅州市', 'Meizhou', 116.117582, 24.299112, '440000'),
    ('441500', '汕尾市', 'Shanwei', 115.364238, 22.774485, '440000'),
    ('441600', '河源市', 'Heyuan', 114.697802, 23.746266, '440000'),
    ('441700', '阳江市', 'Yangjiang', 111.975107, 21.859222, '440000'),
    ('441800', '清远市', 'Qingyuan', 113.051227, 23.685022, '440000'),
    ('441900', '东莞市', 'Dongguan', 113.746262, 23.046237, '440000'),
    ('442000', '中山市', 'Zhongshan', 113.382391, 22.521113, '440000'),
    ('445100', '潮州市', 'Chaozhou', 116.632301, 23.661701, '440000'),
    ('445200', '揭阳市', 'Jieyang', 116.355733, 23.543778, '440000'),
    ('445300', '云浮市', 'Yunfu', 112.044439, 22.929801, '440000');
