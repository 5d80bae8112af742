# OVD-Shapes class lists, in category-id order. The source is
# ovd_ext/shapes/categories.py; tests/test_configs checks that these
# agree with it (mmengine forbids non-builtin imports in inherited configs).
ovd_shapes_classes = (
    'circle', 'square', 'triangle', 'star', 'hexagon', 'cross', 'heart',
    'ring', 'arrow', 'crescent', 'diamond', 'ellipse', 'house', 'tree', 'car',
    'umbrella', 'key', 'mushroom', 'fish', 'cup')
ovd_shapes_base_classes = (
    'circle', 'square', 'triangle', 'hexagon', 'cross', 'heart', 'arrow',
    'crescent', 'diamond', 'ellipse', 'tree', 'car', 'umbrella', 'key', 'cup')
ovd_shapes_novel_classes = ('star', 'ring', 'house', 'fish', 'mushroom')
ovd_shapes_metainfo = dict(
    classes=ovd_shapes_classes,
    base_classes=ovd_shapes_base_classes,
    novel_classes=ovd_shapes_novel_classes)
