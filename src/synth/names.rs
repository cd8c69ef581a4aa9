//! Chinese-looking names for synthetic areas and roads: two characters from
//! a small list and the suffix of the feature's kind (社区, 村, 街道, 路…).

use rand::Rng;

use super::lattice::Axis;
use super::roads::RoadClass;
use super::{stream, Stage};
use crate::model::{AdminCode, CommunityKind};

/// Characters that names are made of.
const SYLLABLES: [&str; 48] = [
    "东", "西", "南", "北", "江", "湖", "山", "河", "桥", "城", "新", "安", "平", "华", "兴", "和",
    "溪", "塘", "林", "湾", "明", "光", "春", "秋", "梅", "竹", "松", "柳", "金", "玉", "宝", "丰",
    "康", "宁", "德", "嘉", "盛", "泰", "云", "龙", "凤", "文", "景", "清", "长", "乐", "富", "阳",
];

/// Two random characters.
pub(super) fn stem<R: Rng>(rng: &mut R) -> String {
    let mut s = String::with_capacity(6);
    for _ in 0..2 {
        s.push_str(SYLLABLES[rng.random_range(0..SYLLABLES.len())]);
    }
    s
}

/// A name from the area's own random stream, so it depends only on the seed
/// and the code.
fn area(seed: u64, code: AdminCode, suffix: &str) -> String {
    let mut rng = stream(seed, Stage::AreaNames, code.value() as usize);
    stem(&mut rng) + suffix
}

/// A district name: …区 (urban) or …县 (rural).
pub(super) fn district(seed: u64, code: AdminCode, kind: CommunityKind) -> String {
    area(
        seed,
        code,
        match kind {
            CommunityKind::Urban => "区",
            CommunityKind::Rural => "县",
        },
    )
}

/// A subdistrict name: …街道 (urban) or …镇 (rural).
pub(super) fn subdistrict(seed: u64, code: AdminCode, kind: CommunityKind) -> String {
    area(
        seed,
        code,
        match kind {
            CommunityKind::Urban => "街道",
            CommunityKind::Rural => "镇",
        },
    )
}

/// A community name: …社区 (urban) or …村 (rural).
pub(super) fn community(seed: u64, code: AdminCode, kind: CommunityKind) -> String {
    area(
        seed,
        code,
        match kind {
            CommunityKind::Urban => "社区",
            CommunityKind::Rural => "村",
        },
    )
}

/// The name of a road of `class`: …大道, …路, …街 or …巷.
pub(super) fn road<R: Rng>(rng: &mut R, class: RoadClass) -> String {
    stem(rng)
        + match class {
            RoadClass::Primary => "大道",
            RoadClass::Secondary => "路",
            RoadClass::Tertiary => "街",
            RoadClass::Residential => "巷",
        }
}

/// The name of the boundary road of `class` on lattice line `line` of
/// `axis`: one name per line and class.
pub(super) fn boundary_road(seed: u64, axis: Axis, line: usize, class: RoadClass) -> String {
    let index = (line << 3) | ((axis as usize) << 2) | class as usize;
    road(&mut stream(seed, Stage::RoadNames, index), class)
}
