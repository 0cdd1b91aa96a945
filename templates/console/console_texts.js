/* The staff console's texts: the names, labels and translated errors
 * console.js shows. Staff can edit the Vietnamese without touching the
 * page's behaviour; the keys and the patterns (the API's English errors
 * and reasons, matched in order) must stay as they are. */
window.DVC_TEXTS = (function () {
  'use strict';
  return {
    /* The statuses' names come from intents/_dossier_status.json (through
     * /admin/ui/meta): uploads accept them too, so they live in one place. */

    channelNames: { telegram: 'Telegram', zalo: 'Zalo', webchat: 'Trò chuyện trên web' },

    broadcastStatus: {
      resolving: 'đang lập danh sách', scheduled: 'đã hẹn giờ', running: 'đang gửi',
      done: 'đã xong', cancelled: 'đã dừng', failed: 'không thực hiện được'
    },

    /* The API's errors stay English (other programs read them); the page says
     * them in Vietnamese: the first pattern that matches, $1.. its groups. */
    errors: [
      [/^text is required/, 'Chưa có nội dung tin nhắn.'],
      [/^text is not valid UTF-8/, 'Nội dung có ký tự không đọc được.'],
      [/^text has (\d+) characters; at most (\d+)/, 'Nội dung dài $1 ký tự; tối đa $2 ký tự (một màn hình điện thoại).'],
      [/^buttons\[\d+\] must be an object/, 'Nút bấm không đúng dạng: cần tên nút và mã nút.'],
      [/^buttons\[\d+\]: unknown field '(.*)'/, 'Nút bấm có mục lạ "$1".'],
      [/^buttons\[\d+\]\.label is required/, 'Có nút bấm chưa có tên.'],
      [/^buttons\[\d+\]\.label must be valid UTF-8, at most (\d+)/, 'Tên nút bấm dài quá (tối đa $1 ký tự) hoặc có ký tự không đọc được.'],
      [/^buttons\[\d+\]\.payload must be 1-(\d+) bytes/, 'Mã nút bấm phải gồm 1–$1 ký tự không dấu, không có khoảng trắng.'],
      [/^buttons\[\d+\] does not fit/, 'Nút bấm không vừa tin nhắn.'],
      [/^buttons must be an array/, 'Danh sách nút bấm không đúng dạng.'],
      [/^at most (\d+) buttons/, 'Tối đa $1 nút bấm.'],
      [/^segment\.channels is required/, 'Chọn ít nhất một kênh (Telegram, Zalo, web chat).'],
      [/^segment\.channels must hold strings/, 'Danh sách kênh không đúng dạng.'],
      [/^segment\.channels: unknown channel '(.*)'/, 'Không có kênh "$1" (chỉ có Telegram, Zalo, web chat).'],
      [/^segment\.channels: channel '(.*)' is not enabled/, 'Kênh $1 chưa được bật trên máy chủ này.'],
      [/^segment\.communes must be an array of 1-(\d+)/, 'Danh sách xã/phường phải có từ 1 đến $1 tên.'],
      [/^segment\.communes must hold non-empty names of at most (\d+) bytes/, 'Tên xã/phường không được để trống, dài tối đa $1 byte.'],
      [/^segment\.communes: a name is not valid UTF-8/, 'Tên xã/phường có ký tự không đọc được.'],
      [/^segment\.seen_within_days must be a whole number of days, 1-(\d+)/, 'Số ngày "dùng gần đây" phải là số nguyên từ 1 đến $1.'],
      [/^segment\.dossier_status must be/, 'Trạng thái hồ sơ không đúng (ví dụ can_bo_sung, cho_thanh_toan).'],
      [/^segment is required/, 'Chưa chọn người nhận.'],
      [/^no such payment to settle/, 'Khoản thanh toán này đã được xử lý hoặc không còn trong danh sách.'],
      [/^the dossier is gone or already paid/, 'Hồ sơ không còn hoặc đã nộp phí: không ghi nhận được, hãy hoàn tiền cho người dân.'],
      [/^segment\.procedure is not supported/, 'Chưa lọc được người nhận theo thủ tục.'],
      [/^segment: unknown field '(.*)'/, 'Không có điều kiện người nhận "$1".'],
      [/^segment cannot be stored/, 'Không lưu được điều kiện người nhận.'],
      [/^segment matches more than (\d+) users/, 'Nhóm người nhận quá đông (hơn $1 người); hãy chọn bớt xã/phường hoặc số ngày dùng gần đây.'],
      [/^not_before must be an ISO 8601/, 'Giờ hẹn gửi không đúng dạng (ví dụ 2025-03-01T08:00:00+07:00).'],
      [/^not_before is more than a year ahead/, 'Giờ hẹn gửi không được quá một năm tới.'],
      [/^body must be a JSON object/, 'Yêu cầu không đúng dạng.'],
      [/^body must be a JSON array or NDJSON/, 'Tệp phải là CSV có dòng tiêu đề, hoặc JSON.'],
      [/^unknown field '(.*)'/, 'Không có mục "$1".'],
      [/^the broadcast with this Idempotency-Key is still being prepared/, 'Tin này đang được chuẩn bị; đợi một lát rồi thử lại.'],
      [/Idempotency-Key/, 'Yêu cầu này trùng một tin đã gửi; tải lại trang rồi soạn lại.'],
      [/^broadcast is (\w+); only a scheduled or running one can be cancelled/, 'Chỉ dừng được tin đang hẹn giờ hoặc đang gửi (tin này: $1).'],
      [/^no such broadcast/, 'Không tìm thấy tin này.'],
      [/^not signed in, or the session has ended/, 'Phiên làm việc đã kết thúc. Đang chuyển về trang đăng nhập…'],
      [/^missing or wrong X-CSRF-Token/, 'Trang đã cũ. Vui lòng tải lại trang (F5) rồi làm lại.'],
      [/^want \{"user"/, 'Mã người dùng phải có dạng tg:123456789 (Telegram) hoặc zl:… (Zalo), và tên xã/phường không quá dài.'],
      [/^no such volunteer in this commune/, 'Không có tình nguyện viên này trong xã/phường của tài khoản.'],
      [/^want \{"commune", "village", "households"/, 'Cần đủ tên xã/phường, tên thôn/bản và số hộ (từ 0 đến 100000).'],
      [/^no such comment/, 'Không còn góp ý này (có thể người dân đã xóa dữ liệu của mình).'],
      [/^want \{"id"/, 'Yêu cầu không đúng dạng; tải lại trang rồi làm lại.'],
      [/^want period=/, 'Kỳ báo cáo hoặc cách chia không đúng; chọn lại trong danh sách.'],
      [/^no such dossier/, 'Không tìm thấy hồ sơ.'],
      [/^store unavailable/, 'Máy chủ dữ liệu đang tạm ngừng. Vui lòng thử lại sau ít phút.'],
      [/^token limited to a commune/, 'Mã truy cập này chỉ dùng để đăng nhập trang quản lý.'],
      [/^the sign-in trail is for province staff/, 'Nhật ký đăng nhập chỉ dành cho cán bộ cấp tỉnh.'],
      [/^desk erasure is for commune desk officers/, 'Chỉ cán bộ bộ phận một cửa của xã/phường (đăng nhập bằng mã của xã) xóa dữ liệu tại quầy.'],
      [/^want \{"code"/, 'Mã gồm đúng 6 chữ số, như người dân đọc trong tin nhắn.'],
      [/^no such code/, 'Mã không đúng, đã hết hạn hoặc đã dùng. Nhờ người dân bấm «Lấy mã mới» trong tin nhắn rồi đọc lại mã.'],
      [/^too many wrong codes/, 'Đã nhập sai mã quá nhiều lần. Vui lòng đợi 15 phút rồi thử lại.'],
      [/^the erasure could not be ordered/, 'Mã đúng nhưng chưa xóa được. Nhờ người dân tự bấm «Xóa dữ liệu của tôi» trong tin nhắn, hoặc báo bộ phận kỹ thuật.'],
      [/^unknown commune '(.*)' \(not in the 2025 list\); nearest: (.*)/, 'Không có xã/phường «$1» trong danh sách sau sắp xếp năm 2025. Tên gần nhất: $2. Chọn tên trong danh sách gợi ý.'],
      [/^unknown commune '(.*)' \(not in the 2025 list\)/, 'Không có xã/phường «$1» trong danh sách sau sắp xếp năm 2025. Chọn tên trong danh sách gợi ý.'],
      [/^not found/, 'Không tìm thấy.']
    ],

    buttonActions: [
      ['', '— không có nút —'], ['menu:thu_tuc', 'Mở danh sách thủ tục'],
      ['i:tra_cuu_ho_so', 'Tra cứu hồ sơ'], ['i:thanh_toan', 'Nộp lệ phí trực tuyến'],
      ['i:huong_dan_vneid', 'Hướng dẫn VNeID'], ['i:gap_can_bo', 'Gặp cán bộ']
    ],

    /* The upload answer's field names and reasons are in upload_texts.json
     * (sent with meta), which `dvcbot import` prints from too. */

    unapplied: {
      fee_changed: 'Lệ phí đã thay đổi sau khi tạo liên kết', expired: 'Thanh toán sau khi liên kết hết hạn',
      already_paid: 'Hồ sơ đã nộp phí trước đó (nộp trùng)', not_due: 'Hồ sơ không còn phải nộp phí',
      no_dossier: 'Không còn hồ sơ'
    },

    /* The two buttons of a payment not applied, what the button says while
     * it waits for the second press, and the notice once done. */
    settle: { refunded: 'Đã hoàn tiền', applied: 'Ghi nhận vào hồ sơ' },
    settleConfirm: 'Bấm lần nữa: ',
    /* The other buttons pressed twice: a volunteer's removal, stopping a broadcast. */
    removeConfirm: 'Bấm lần nữa để xóa',
    cancel: 'Dừng gửi',
    cancelConfirm: 'Bấm lần nữa để dừng hẳn (không gửi tiếp được)',
    settleDone: { refunded: 'Đã ghi là hoàn tiền: ', applied: 'Đã ghi nhận lệ phí cho hồ sơ ' },

    /* Broadcasts: a button row half filled ($1: the label, or the row's
     * number), a count of nobody, and the hint on a row of the list. */
    buttonNoAction: 'Nút «$1» chưa chọn việc của nút (ô bên cạnh). Chọn việc, hoặc xóa chữ trên nút.',
    buttonNoLabel: 'Nút thứ $1 chưa có chữ trên nút.',
    whenPast: 'Giờ hẹn gửi đã qua. Kiểm tra lại ngày, tháng, năm; để trống nếu muốn gửi ngay.',
    noRecipients: 'Không có ai trong nhóm người nhận này. Kiểm tra lại tên xã/phường (viết đúng tên, cách nhau bằng dấu phẩy) và các điều kiện khác.',
    followRow: 'Bấm (hoặc Enter) để xem tiến độ gửi tin này',

    /* The sign-in trail (province staff only). */
    auditEvents: { sign_in: 'Đăng nhập', sign_out: 'Đăng xuất', erase_desk: 'Xóa dữ liệu tại quầy' },
    auditProvince: 'Toàn tỉnh',
    auditEmpty: 'Chưa có lần đăng nhập nào được ghi.',
    auditNoFailed: 'Không có lần đăng nhập sai nào trong 7 ngày.',
    auditOther: 'các địa chỉ khác',

    /* Desk-side erasure: the answer once the resident's data is erased ($1:
     * items deleted; the kinds as POST erase names them, erase_kind_*; the
     * shared lists the resident was taken out of, left out at 0). */
    eraseDone: 'Đã xóa toàn bộ dữ liệu của người dân: $1 mục',
    eraseKinds: {
      s: 'phiên trò chuyện và hướng dẫn đang làm dở', u: 'thông tin kênh liên lạc',
      p: 'thông tin cá nhân đã lưu', dd: 'dấu vết tin nhắn', fb: 'góp ý', ho: 'yêu cầu gặp cán bộ',
      wc_hist: 'lịch sử trò chuyện trên trang web', wc_inbox: 'tin nhắn chờ trên trang web',
      ec: 'mã xóa dữ liệu', refs: 'danh sách nơi người dân được nhắc tới', other: 'dữ liệu khác'
    },
    eraseLists: 'Đã gỡ tên khỏi $1 danh sách dùng chung (theo dõi hồ sơ, nhắc việc, góp ý).',
    eraseTold: 'Người dân nhận thông báo «Đã xóa» trong tin nhắn của mình.',

    /* A volunteer's user key that is not one (a phone number, say). */
    volunteerKey: 'Nhập mã người dùng dạng tg:123456789 (Telegram) hoặc zl:… (Zalo), không phải số điện thoại.'
  };
}());
