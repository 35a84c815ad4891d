/**
 * Reference data the demo generator draws from: cities with their real administrative division
 * codes (GB/T 2260, the 6 digits inside a unified social credit code) and telephone area codes,
 * the sales force, the product catalogue and a list of plausible (invented) Chinese companies.
 * Three well-known names are kept because the design documents use them as examples; every
 * credit code, phone number and address attached to them is made up.
 */

export type Team = 'north' | 'east' | 'south' | 'central' | 'west';

export interface City {
  /** Short name, as used in company names: 北京, 深圳. */
  name: string;
  /** Official city name: 北京市, 深圳市. */
  full: string;
  /** Province as written in addresses: 广东省, 北京市. */
  province: string;
  /** Telephone area code with the trunk 0. */
  area: string;
  /** Districts with their administrative division code. */
  districts: readonly (readonly [string, string])[];
  team: Team;
}

const c = (
  name: string,
  province: string,
  area: string,
  team: Team,
  districts: readonly (readonly [string, string])[],
): City => ({ name, full: `${name}市`, province, area, districts, team });

export const CITIES: Record<string, City> = Object.fromEntries(
  [
    c('北京', '北京市', '010', 'north', [['海淀区', '110108'], ['朝阳区', '110105'], ['东城区', '110101'], ['丰台区', '110106']]),
    c('天津', '天津市', '022', 'north', [['滨海新区', '120116'], ['和平区', '120101']]),
    c('石家庄', '河北省', '0311', 'north', [['长安区', '130102'], ['桥西区', '130104']]),
    c('太原', '山西省', '0351', 'north', [['小店区', '140105'], ['迎泽区', '140106']]),
    c('沈阳', '辽宁省', '024', 'north', [['和平区', '210102'], ['浑南区', '210112']]),
    c('大连', '辽宁省', '0411', 'north', [['中山区', '210202'], ['甘井子区', '210211']]),
    c('哈尔滨', '黑龙江省', '0451', 'north', [['道里区', '230102'], ['南岗区', '230103']]),
    c('上海', '上海市', '021', 'east', [['浦东新区', '310115'], ['徐汇区', '310104'], ['黄浦区', '310101'], ['闵行区', '310112']]),
    c('南京', '江苏省', '025', 'east', [['玄武区', '320102'], ['鼓楼区', '320106'], ['江宁区', '320115']]),
    c('苏州', '江苏省', '0512', 'east', [['虎丘区', '320505'], ['吴中区', '320506'], ['姑苏区', '320508']]),
    c('无锡', '江苏省', '0510', 'east', [['滨湖区', '320211'], ['新吴区', '320214']]),
    c('杭州', '浙江省', '0571', 'east', [['西湖区', '330106'], ['滨江区', '330108'], ['上城区', '330102'], ['余杭区', '330110']]),
    c('宁波', '浙江省', '0574', 'east', [['海曙区', '330203'], ['北仑区', '330206'], ['鄞州区', '330212']]),
    c('合肥', '安徽省', '0551', 'east', [['蜀山区', '340104'], ['包河区', '340111']]),
    c('福州', '福建省', '0591', 'east', [['鼓楼区', '350102'], ['仓山区', '350104']]),
    c('厦门', '福建省', '0592', 'east', [['思明区', '350203'], ['湖里区', '350206']]),
    c('南昌', '江西省', '0791', 'east', [['东湖区', '360102'], ['青山湖区', '360111']]),
    c('济南', '山东省', '0531', 'east', [['历下区', '370102'], ['槐荫区', '370104']]),
    c('青岛', '山东省', '0532', 'east', [['市南区', '370202'], ['黄岛区', '370211']]),
    c('郑州', '河南省', '0371', 'central', [['中原区', '410102'], ['金水区', '410105']]),
    c('武汉', '湖北省', '027', 'central', [['江岸区', '420102'], ['江汉区', '420103'], ['洪山区', '420111']]),
    c('长沙', '湖南省', '0731', 'central', [['岳麓区', '430104'], ['雨花区', '430111']]),
    c('广州', '广东省', '020', 'south', [['天河区', '440106'], ['越秀区', '440104'], ['黄埔区', '440112'], ['南沙区', '440115']]),
    c('深圳', '广东省', '0755', 'south', [['南山区', '440305'], ['福田区', '440304'], ['宝安区', '440306'], ['龙岗区', '440307']]),
    c('佛山', '广东省', '0757', 'south', [['顺德区', '440606'], ['南海区', '440605']]),
    // Dongguan has no county-level districts: its towns share the prefecture code.
    c('东莞', '广东省', '0769', 'south', [['松山湖', '441900'], ['南城街道', '441900']]),
    c('南宁', '广西壮族自治区', '0771', 'south', [['青秀区', '450103'], ['西乡塘区', '450107']]),
    c('海口', '海南省', '0898', 'south', [['龙华区', '460106'], ['美兰区', '460108']]),
    c('重庆', '重庆市', '023', 'west', [['渝北区', '500112'], ['江北区', '500105'], ['渝中区', '500103']]),
    c('成都', '四川省', '028', 'west', [['武侯区', '510107'], ['锦江区', '510104'], ['成华区', '510108']]),
    c('贵阳', '贵州省', '0851', 'west', [['观山湖区', '520115'], ['南明区', '520102']]),
    c('昆明', '云南省', '0871', 'west', [['五华区', '530102'], ['盘龙区', '530103']]),
    c('西安', '陕西省', '029', 'west', [['雁塔区', '610113'], ['未央区', '610112']]),
    c('兰州', '甘肃省', '0931', 'west', [['城关区', '620102'], ['七里河区', '620103']]),
  ].map((city) => [city.name, city]),
);

/** Municipalities are written once in an address ("北京市海淀区…", not "北京市北京市…"). */
export function isMunicipality(city: City): boolean {
  return city.province === city.full;
}

export const STREETS: readonly string[] = [
  '人民路', '解放路', '中山路', '建设路', '长江路', '科技园路', '高新大道', '创业路', '工业大道',
  '滨江路', '文化路', '金融街', '学院路', '新华路', '世纪大道', '友谊路', '和平路', '东风路',
  '发展大道', '光明路', '软件园路', '迎宾大道', '港城路', '振兴路',
];

export const BUILDINGS: readonly string[] = [
  '科技大厦', '国际商务中心', '创新园', '金融中心', '总部基地', '智慧谷', '国贸大厦', '产业园',
  '软件园', '中心广场',
];

export interface SalesPerson {
  /** User id, as the ERP stores the owning salesperson (cCusPPerson) and as JWTs carry it. */
  id: string;
  name: string;
  team: Team;
  /** Employee id in the OA (hrmresource.id). */
  hrmId: number;
}

export const SALES: readonly SalesPerson[] = [
  { id: 'u_wang', name: '王强', team: 'north', hrmId: 101 },
  { id: 'u_zhao', name: '赵敏', team: 'north', hrmId: 102 },
  { id: 'u_zhang', name: '张伟', team: 'east', hrmId: 103 },
  { id: 'u_li', name: '李娜', team: 'east', hrmId: 104 },
  { id: 'u_chen', name: '陈静', team: 'south', hrmId: 105 },
  { id: 'u_liu', name: '刘洋', team: 'south', hrmId: 106 },
  { id: 'u_huang', name: '黄磊', team: 'central', hrmId: 107 },
  { id: 'u_yang', name: '杨帆', team: 'west', hrmId: 108 },
];

/** Receivable accountants: the `owner` of a finance account (not a salesperson). */
export const AR_CLERKS: readonly { id: string; name: string; hrmId: number }[] = [
  { id: 'f_sun', name: '孙丽', hrmId: 201 },
  { id: 'f_zhou', name: '周杰', hrmId: 202 },
];

export interface ProductSeed {
  code: string;
  name: string;
  spec: string;
  unit: string;
  /** Reference sale price, yuan. */
  price: string;
  category: string;
}

export const PRODUCT_CATEGORIES: Record<string, string> = {
  '01': '服务器及存储',
  '02': '网络设备',
  '03': '钢材',
  '04': '工业自动化',
  '05': '电线电缆',
  '06': '办公设备及耗材',
  '07': '软件及服务',
  '08': '化工原料',
};

const p = (code: string, name: string, spec: string, unit: string, price: string): ProductSeed => ({
  code,
  name,
  spec,
  unit,
  price,
  category: code.slice(0, 2),
});

export const PRODUCTS: readonly ProductSeed[] = [
  p('0101001', '机架式服务器', '2U双路/64G/4T', '台', '38500.00'),
  p('0101002', '塔式服务器', '单路/32G/2T', '台', '16800.00'),
  p('0101003', '磁盘阵列', '24盘位/双控', '台', '125000.00'),
  p('0101004', '固态硬盘', '3.84TB/U.2', '块', '4680.00'),
  p('0201001', '核心交换机', '48口万兆/三层', '台', '56000.00'),
  p('0201002', '接入交换机', '24口千兆/PoE', '台', '3280.00'),
  p('0201003', '企业级防火墙', '8口千兆/4口万兆', '台', '42000.00'),
  p('0201004', '无线AP', '双频/吸顶式', '个', '890.00'),
  p('0301001', '冷轧钢板', 'SPCC/1.0mm*1250*2500', '吨', '5120.00'),
  p('0301002', '热镀锌卷', 'DX51D/2.0mm*1250', '吨', '5680.00'),
  p('0301003', '不锈钢板', '304/2.0mm*1219*2438', '吨', '15800.00'),
  p('0301004', '螺纹钢', 'HRB400E/Φ20', '吨', '3760.00'),
  p('0401001', 'PLC控制器', 'CPU 1215C DC/DC/DC', '台', '3650.00'),
  p('0401002', '伺服电机', '1.5kW/2500线', '套', '4280.00'),
  p('0401003', '变频器', '7.5kW/380V', '台', '2960.00'),
  p('0401004', '工业触摸屏', '10英寸/以太网', '台', '2380.00'),
  p('0501001', '电力电缆', 'YJV-3*95+1*50', '米', '236.50'),
  p('0501002', '控制电缆', 'KVVP-10*1.5', '米', '18.60'),
  p('0601001', 'A4复印纸', '70g/500张/包', '箱', '168.00'),
  p('0601002', '激光打印机', 'A4黑白/双面', '台', '1890.00'),
  p('0601003', '硒鼓', '适配M403/3000页', '个', '420.00'),
  p('0701001', 'ERP软件许可', '标准版/10用户', '套', '98000.00'),
  p('0701002', '年度运维服务', '7*24/含备件', '年', '36000.00'),
  p('0701003', '实施服务', '按人天', '人天', '2200.00'),
  p('0801001', '工业乙醇', '95%/200L桶装', '吨', '6850.00'),
  p('0801002', '聚丙烯颗粒', 'PP-T30S', '吨', '7920.00'),
];

/**
 * A company as its parts, so the generator can spell it the way different people do:
 * prefix + core + suffix is the registered name (北京 + 华为技术 + 有限公司).
 */
export interface CompanySeed {
  /** Region as written at the start of the registered name: 北京, 深圳市, 江苏. */
  prefix: string;
  core: string;
  suffix: string;
  /** City the company sits in (key of CITIES). */
  city: string;
  short: string;
  industry: string;
  /** Mail domain label, e.g. yunfan-data → yunfan-data.com.cn. */
  slug: string;
}

const co = (prefix: string, core: string, suffix: string, city: string, short: string, industry: string, slug: string): CompanySeed => ({
  prefix,
  core,
  suffix,
  city,
  short,
  industry,
  slug,
});

/** ERP customers, in code order (C0001 = the first). */
export const COMPANIES: readonly CompanySeed[] = [
  co('上海', '宝钢国际贸易', '有限公司', '上海', '宝钢国贸', '钢铁贸易', 'bg-intltrade'),
  co('北京', '华为技术', '有限公司', '北京', '华为北京', '通信设备', 'hwtech-bj'),
  co('深圳市', '腾讯计算机系统', '有限公司', '深圳', '腾讯计算机', '互联网服务', 'tx-computer'),
  co('杭州', '云帆数据科技', '有限公司', '杭州', '云帆数据', '软件和信息服务', 'yunfan-data'),
  co('苏州', '恒瑞精密机械', '有限公司', '苏州', '恒瑞精机', '通用设备制造', 'hengrui-pm'),
  co('广州', '南沙港华物流', '有限公司', '广州', '港华物流', '交通运输', 'ganghua-log'),
  co('成都', '蜀光电子科技', '有限公司', '成都', '蜀光电子', '电子元器件', 'shuguang-e'),
  co('西安', '秦川医疗器械', '有限公司', '西安', '秦川医疗', '医疗器械', 'qinchuan-med'),
  co('南京', '金陵智能装备', '股份有限公司', '南京', '金陵智能', '专用设备制造', 'jinling-ie'),
  co('天津', '滨海新材料科技', '有限公司', '天津', '滨海新材', '新材料', 'binhai-nm'),
  co('武汉', '楚天汽车零部件', '有限公司', '武汉', '楚天汽配', '汽车零部件', 'chutian-auto'),
  co('杭州', 'ABT电子', '有限公司', '杭州', 'ABT电子', '电子元器件', 'abt-hz'),
  co('重庆', '山城摩托车配件', '有限公司', '重庆', '山城摩配', '汽车零部件', 'shancheng-moto'),
  co('青岛', '海润食品进出口', '有限公司', '青岛', '海润食品', '食品制造', 'hairun-food'),
  co('宁波', '甬江电器', '有限公司', '宁波', '甬江电器', '家用电器', 'yongjiang-ea'),
  co('厦门', '鹭岛纺织服装', '有限公司', '厦门', '鹭岛纺织', '纺织服装', 'ludao-tex'),
  co('长沙', '湘江工程机械', '有限公司', '长沙', '湘江工机', '工程机械', 'xiangjiang-cm'),
  co('郑州', '中原粮油贸易', '有限公司', '郑州', '中原粮油', '批发零售', 'zhongyuan-go'),
  co('合肥', '庐州信息技术', '有限公司', '合肥', '庐州信息', '软件和信息服务', 'luzhou-it'),
  co('济南', '泉城钢结构工程', '有限公司', '济南', '泉城钢构', '建筑业', 'quancheng-ss'),
  co('深圳市', '粤海电子元器件', '有限公司', '深圳', '粤海电子', '电子元器件', 'yuehai-ec'),
  co('北京', '燕园软件服务', '有限公司', '北京', '燕园软件', '软件和信息服务', 'yanyuan-soft'),
  co('上海', '浦江化工', '有限公司', '上海', '浦江化工', '化学原料', 'pujiang-chem'),
  co('杭州', '西湖茶业', '有限公司', '杭州', '西湖茶业', '农副食品加工', 'xihu-tea'),
  co('东莞市', '松湖模具', '有限公司', '东莞', '松湖模具', '通用设备制造', 'songhu-mould'),
  co('佛山市', '顺德家电配件', '有限公司', '佛山', '顺德家配', '家用电器', 'shunde-hap'),
  co('无锡', '太湖精工机械', '有限公司', '无锡', '太湖精工', '通用设备制造', 'taihu-pm'),
  co('昆明', '滇池生物科技', '有限公司', '昆明', '滇池生物', '医药制造', 'dianchi-bio'),
  co('沈阳', '盛京重工机械', '有限公司', '沈阳', '盛京重工', '专用设备制造', 'shengjing-hi'),
  co('大连', '星海船舶设备', '有限公司', '大连', '星海船舶', '船舶制造', 'xinghai-marine'),
  co('哈尔滨', '冰城食品', '有限公司', '哈尔滨', '冰城食品', '食品制造', 'bingcheng-food'),
  co('福州', '闽江建材', '有限公司', '福州', '闽江建材', '建筑材料', 'minjiang-bm'),
  co('南昌', '赣江医药', '有限公司', '南昌', '赣江医药', '医药批发', 'ganjiang-pharma'),
  co('贵阳', '筑城大数据科技', '有限公司', '贵阳', '筑城数据', '软件和信息服务', 'zhucheng-bd'),
  co('兰州', '金城石化设备', '有限公司', '兰州', '金城石化', '专用设备制造', 'jincheng-pe'),
  co('石家庄', '燕赵制药', '有限公司', '石家庄', '燕赵制药', '医药制造', 'yanzhao-pharm'),
  co('太原', '晋阳煤机设备', '有限公司', '太原', '晋阳煤机', '专用设备制造', 'jinyang-cm'),
  co('海口', '椰风旅游开发', '有限公司', '海口', '椰风旅游', '旅游服务', 'yefeng-travel'),
  co('南宁', '绿城农业发展', '有限公司', '南宁', '绿城农业', '农业', 'lvcheng-agri'),
  co('上海', '申江物业管理', '有限公司', '上海', '申江物业', '物业管理', 'shenjiang-pm'),
  co('广州', '羊城汽车销售服务', '有限公司', '广州', '羊城汽车', '汽车销售', 'yangcheng-auto'),
  co('江苏', '长江电缆', '有限公司', '南京', '长江电缆', '电线电缆', 'cj-cable'),
  co('浙江', '钱塘纺织印染', '有限公司', '杭州', '钱塘纺织', '纺织服装', 'qiantang-dye'),
  co('湖南', '潇湘建设', '集团有限公司', '长沙', '潇湘建设', '建筑业', 'xiaoxiang-cg'),
  co('山东', '齐鲁医药包装', '有限公司', '济南', '齐鲁医包', '医药包装', 'qilu-pp'),
  co('四川', '天府粮仓食品', '有限公司', '成都', '天府粮仓', '食品制造', 'tianfu-food'),
  co('深圳市', '前海云链供应链管理', '有限公司', '深圳', '前海云链', '供应链管理', 'qh-yunlian'),
  co('北京', '京北新能源科技', '股份有限公司', '北京', '京北新能源', '电力设备', 'jingbei-ne'),
];

/**
 * Customers only finance knows (walk-in accounts, service customers billed without an ERP order).
 * The first shares a word with an ERP customer (云帆) but is a different company: it must not match.
 */
export const FINANCE_ONLY_COMPANIES: readonly CompanySeed[] = [
  co('杭州', '云帆旅游用品', '有限公司', '杭州', '云帆旅游', '文体用品', 'yunfan-outdoor'),
  co('上海', '东海船务代理', '有限公司', '上海', '东海船务', '交通运输', 'donghai-ship'),
  co('广州', '穗丰餐饮管理', '有限公司', '广州', '穗丰餐饮', '餐饮', 'suifeng-cy'),
  co('天津', '津门仓储物流', '有限公司', '天津', '津门仓储', '仓储', 'jinmen-wh'),
  co('成都', '锦官城文化传媒', '有限公司', '成都', '锦官城传媒', '文化传媒', 'jinguan-media'),
  co('武汉', '光谷激光技术', '有限公司', '武汉', '光谷激光', '光电子器件', 'guanggu-laser'),
];

/** Parts of generated names once the curated lists run out (large --customers counts). */
export const BRANDS: readonly (readonly [string, string])[] = [
  ['华信', 'huaxin'], ['恒通', 'hengtong'], ['金源', 'jinyuan'], ['天宇', 'tianyu'], ['鑫达', 'xinda'],
  ['博远', 'boyuan'], ['盛世', 'shengshi'], ['宏图', 'hongtu'], ['瑞丰', 'ruifeng'], ['嘉禾', 'jiahe'],
  ['永泰', 'yongtai'], ['中鼎', 'zhongding'], ['海纳', 'haina'], ['众诚', 'zhongcheng'], ['正元', 'zhengyuan'],
  ['新锐', 'xinrui'], ['东方', 'dongfang'], ['立信', 'lixin'], ['汇丰源', 'huifengyuan'], ['德润', 'derun'],
  ['长盛', 'changsheng'], ['九洲', 'jiuzhou'], ['万和', 'wanhe'], ['明远', 'mingyuan'], ['兴业达', 'xingyeda'],
  ['宝丰', 'baofeng'], ['佳诚', 'jiacheng'], ['聚能', 'juneng'], ['安泰', 'antai'], ['启航', 'qihang'],
];

export const TRADES: readonly (readonly [string, string, string])[] = [
  ['科技', 'tech', '软件和信息服务'],
  ['贸易', 'trade', '批发零售'],
  ['机械设备', 'machinery', '通用设备制造'],
  ['电子', 'elec', '电子元器件'],
  ['化工', 'chem', '化学原料'],
  ['建材', 'bm', '建筑材料'],
  ['物流', 'logistics', '交通运输'],
  ['食品', 'food', '食品制造'],
  ['医药', 'pharma', '医药制造'],
  ['纺织', 'textile', '纺织服装'],
  ['汽车配件', 'autoparts', '汽车零部件'],
  ['环保工程', 'enviro', '生态保护和环境治理'],
  ['新能源', 'energy', '电力设备'],
  ['包装材料', 'pack', '包装'],
];

export const SUFFIXES: readonly (readonly [string, number])[] = [
  ['有限公司', 10],
  ['股份有限公司', 2],
  ['有限责任公司', 2],
  ['集团有限公司', 1],
];
